import Foundation

/// An owned, 64-byte aligned run of floats: the storage for activations, parameters and gradients.
/// Allocated once and reused, so the training step allocates nothing.
public final class FloatBuffer: @unchecked Sendable {
    /// The first element.
    public let pointer: UnsafeMutablePointer<Float>
    /// Number of floats.
    public let count: Int

    /// A zero-filled buffer of `count` floats.
    public init(count: Int) {
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(1, count) * 4, alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(1, count))
        pointer.initialize(repeating: 0, count: max(1, count))
    }

    /// A buffer holding a copy of `values`.
    public convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { pointer.update(from: base, count: values.count) }
        }
    }

    deinit { UnsafeMutableRawPointer(pointer).deallocate() }

    /// Element access (no bounds check in release builds).
    @inlinable public subscript(i: Int) -> Float {
        get { pointer[i] }
        set { pointer[i] = newValue }
    }

    /// The contents as an array.
    public var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    /// The contents as a buffer pointer.
    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: pointer, count: count) }

    /// Sets every element to zero.
    public func zero() { pointer.update(repeating: 0, count: count) }

    /// Copies `values` into the start of this buffer.
    public func copy(from values: [Float]) {
        precondition(values.count <= count, "FloatBuffer.copy: \(values.count) values for \(count) slots")
        values.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { pointer.update(from: base, count: values.count) }
        }
    }
}
