import Foundation

/// A safetensors file written straight from the tensors' memory: the header, then each tensor's
/// bytes in turn, handed to a sink — no copy of the file is built in memory (a checkpoint of the
/// base model is GBs). The bytes are those `SafetensorsWriter` would encode for the same tensors.
///
/// The stream holds pointers, not copies: every tensor added must stay allocated and unchanged
/// until `write` returns.
public struct SafetensorsStream {
    /// One tensor: its header entry and where its bytes are.
    struct Tensor {
        var name: String
        var dtype: String
        var shape: [Int]
        var bytes: UnsafeRawBufferPointer
    }

    /// String metadata stored under `__metadata__`.
    public var metadata: [String: String]
    private(set) var tensors: [Tensor] = []

    public init(metadata: [String: String] = [:]) { self.metadata = metadata }

    /// Adds an F32 tensor whose memory is `values` (`values.count` = the product of `shape`).
    public mutating func add(_ name: String, shape: [Int], floats values: UnsafeBufferPointer<Float>) {
        precondition(values.count == shape.reduce(1, *), "safetensors: \(name) has \(values.count) values for shape \(shape)")
        tensors.append(Tensor(name: name, dtype: "F32", shape: shape, bytes: UnsafeRawBufferPointer(values)))
    }

    /// The header: length and JSON.
    public func header() throws -> Data {
        try SafetensorsHeader.encode(tensors.map { ($0.name, $0.dtype, $0.shape, $0.bytes.count) }, metadata: metadata)
    }

    /// Writes the file to `sink`: the header, then each tensor's memory as it is.
    public func write(to sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        try header().withUnsafeBytes { try sink($0) }
        for tensor in tensors where tensor.bytes.count > 0 { try sink(tensor.bytes) }
    }

    /// The whole file in memory (tests, small files).
    public func encoded() throws -> Data {
        var out = Data()
        try write { out.append(contentsOf: $0) }
        return out
    }
}
