import Foundation
import FluoroSupport

/// Errors loading parameters into an arena, naming the file and the tensor.
public enum ParameterArenaError: Error, CustomStringConvertible {
    case missing(file: String, name: String)
    case shapeMismatch(file: String, name: String, expected: [Int], found: [Int])

    public var description: String {
        switch self {
        case let .missing(file, name):
            return "\(file) has no tensor '\(name)'; was it written for another model configuration?"
        case let .shapeMismatch(file, name, expected, found):
            return "\(file): '\(name)' has shape \(found) but the model expects \(expected); check the config"
        }
    }
}

/// All of a model's parameters in one allocation carved into named views, with a mirror
/// allocation of the same layout for gradients, so an optimizer step, an all-reduce or a
/// checkpoint is one loop or one call over `values` and `gradients`.
public final class ParameterArena: @unchecked Sendable {
    /// How a view is initialised (METHOD §7).
    public enum Initialization: Equatable, Sendable {
        /// Uniform in ±sqrt(6 / (fan_in + fan_out)) over the 2-D view [shape[0], rest].
        case xavierUniform
        case zeros
        case ones
        /// Every element the same value (e.g. a heatmap head's output bias at a small prior's logit).
        case constant(Float)
        /// Normal with this std, redrawn outside ±2 std.
        case truncatedNormal(std: Float)
    }

    /// What a view holds, before the arena exists.
    public struct Spec: Sendable {
        public var name: String
        public var shape: [Int]
        /// Whether AdamW's weight decay applies (matrices only).
        public var decays: Bool
        public var initialization: Initialization
        public init(name: String, shape: [Int], decays: Bool, initialization: Initialization) {
            self.name = name; self.shape = shape; self.decays = decays; self.initialization = initialization
        }
    }

    /// One named tensor inside the arena.
    public struct View: Sendable {
        public var name: String
        /// First float of the view in `values` (and `gradients`), 16-float aligned.
        public var offset: Int
        public var shape: [Int]
        public var count: Int
        public var decays: Bool
        public var initialization: Initialization
    }

    /// Views in creation order (PyTorch's `named_parameters()` order).
    public let views: [View]
    /// View names, in order.
    public var names: [String] { views.map(\.name) }
    /// Every parameter value; padding between views stays zero.
    public let values: FloatBuffer
    /// Gradients, same layout as `values`.
    public let gradients: FloatBuffer
    private let index: [String: Int]

    /// An arena holding `specs`, zero-filled (call `initialize(seed:)` or `load(from:prefix:)`).
    public init(specs: [Spec]) {
        var views: [View] = []
        var offset = 0
        for s in specs {
            let count = s.shape.reduce(1, *)
            views.append(View(name: s.name, offset: offset, shape: s.shape, count: count, decays: s.decays,
                              initialization: s.initialization))
            offset += (count + 15) / 16 * 16
        }
        self.views = views
        values = FloatBuffer(count: offset)
        gradients = FloatBuffer(count: offset)
        index = Dictionary(uniqueKeysWithValues: views.enumerated().map { ($1.name, $0) })
    }

    /// Number of real parameters (without padding).
    public var parameterCount: Int { views.reduce(0) { $0 + $1.count } }

    /// The view called `name`, or nil.
    public subscript(name: String) -> View? { index[name].map { views[$0] } }

    /// The values of view `name` (a programming error if the name does not exist).
    public func value(_ name: String) -> UnsafeMutablePointer<Float> {
        guard let v = self[name] else { preconditionFailure("ParameterArena: no parameter '\(name)'") }
        return values.pointer + v.offset
    }

    /// The gradients of view `name`.
    public func gradient(_ name: String) -> UnsafeMutablePointer<Float> {
        guard let v = self[name] else { preconditionFailure("ParameterArena: no parameter '\(name)'") }
        return gradients.pointer + v.offset
    }

    /// A copy of view `name`'s values (for tests and export).
    public func valueArray(_ name: String) -> [Float] {
        guard let v = self[name] else { return [] }
        return Array(UnsafeBufferPointer(start: values.pointer + v.offset, count: v.count))
    }

    /// A copy of view `name`'s gradients.
    public func gradientArray(_ name: String) -> [Float] {
        guard let v = self[name] else { return [] }
        return Array(UnsafeBufferPointer(start: gradients.pointer + v.offset, count: v.count))
    }

    /// Sets every gradient to zero.
    public func zeroGradients() {
        let g = gradients.pointer
        Parallel.chunks(gradients.count, minimumChunk: 1 << 18) { range in (g + range.lowerBound).update(repeating: 0, count: range.count) }
    }

    /// Loads every view from tensors named `prefix + name`, checking shapes.
    public func load(from file: SafetensorsFile, prefix: String = "") throws {
        try loadViews(from: file, prefix: prefix, where: { _ in true })
    }

    /// Loads the views whose names pass `include` from tensors named `prefix + name`, checking shapes
    /// (e.g. a tracker's `encoder.*` from an exported encoder).
    public func loadViews(from file: SafetensorsFile, prefix: String = "", where include: (String) -> Bool) throws {
        for v in views where include(v.name) {
            let key = prefix + v.name
            guard let entry = file.entries[key] else { throw ParameterArenaError.missing(file: file.path, name: key) }
            guard entry.shape == v.shape else {
                throw ParameterArenaError.shapeMismatch(file: file.path, name: key, expected: v.shape, found: entry.shape)
            }
            let destination = UnsafeMutableBufferPointer(start: values.pointer + v.offset, count: v.count)
            if entry.dtype == "F32" {
                try file.copyFloats(key, shape: v.shape, into: destination)
            } else {
                _ = destination.update(fromContentsOf: try file.floats(key))
            }
        }
    }

    /// Writes every view (as `prefix + name`) into a safetensors writer.
    public func write(into writer: inout SafetensorsWriter, prefix: String = "", gradients useGradients: Bool = false) {
        let source = useGradients ? gradients : values
        for v in views {
            writer.add(prefix + v.name, shape: v.shape,
                       floats: UnsafeBufferPointer(start: source.pointer + v.offset, count: v.count))
        }
    }

    /// Adds every view (as `prefix + name`) to a safetensors stream, as pointers into the arena:
    /// the arena must not change until the stream is written.
    public func write(into stream: inout SafetensorsStream, prefix: String = "") {
        for v in views {
            stream.add(prefix + v.name, shape: v.shape, floats: UnsafeBufferPointer(start: values.pointer + v.offset, count: v.count))
        }
    }

    /// Initialises every view from one seed (views draw in order from one SplitMix64 stream),
    /// so every rank that uses the same seed builds the same model. Gradients are zeroed.
    public func initialize(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        values.zero()
        gradients.zero()
        for v in views {
            let p = values.pointer + v.offset
            switch v.initialization {
            case .zeros: break
            case let .constant(value): p.update(repeating: value, count: v.count)
            case .ones: p.update(repeating: 1, count: v.count)
            case .xavierUniform:
                let fanOut = v.shape.first ?? 1, fanIn = max(1, v.count / max(1, fanOut))
                let bound = (6 / Double(fanIn + fanOut)).squareRoot()
                for i in 0..<v.count { p[i] = Float((rng.nextUnit() * 2 - 1) * bound) }
            case let .truncatedNormal(std):
                for i in 0..<v.count {
                    var z: Double
                    // torch's trunc_normal_(std=s) cuts at ±2 in absolute value (as VideoMAE uses it),
                    // not at ±2 std: for std 0.02 the cut is 100 std away.
                    repeat { z = Self.standardNormal(&rng) * Double(std) } while abs(z) > 2
                    p[i] = Float(z)
                }
            }
        }
    }

    /// A standard normal draw (Box–Muller).
    public static func standardNormal(_ rng: inout SplitMix64) -> Double {
        let u1 = max(rng.nextUnit(), 1e-300), u2 = rng.nextUnit()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}
