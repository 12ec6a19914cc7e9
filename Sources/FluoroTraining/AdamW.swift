#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif
import FluoroTensor
import Foundation

/// Errors restoring optimiser state, saying what did not match.
public enum AdamWError: Error, CustomStringConvertible {
    case stateSizeMismatch(expected: Int, moments: Int, secondMoments: Int)
    case negativeStep(Int)

    public var description: String {
        switch self {
        case let .stateSizeMismatch(expected, m, v):
            return "AdamW state has \(m) first and \(v) second moments, but the optimiser has \(expected) parameters: the checkpoint belongs to another model configuration"
        case let .negativeStep(step):
            return "AdamW state has step \(step); a checkpoint's step count must be 0 or more"
        }
    }
}

/// AdamW over one flat parameter arena, exactly as `torch.optim.AdamW` (single-tensor path):
/// decoupled weight decay `p *= 1 - lr*wd` first, then the bias-corrected Adam update
/// `p -= lr/(1-β1^t) * m / (sqrt(v)/sqrt(1-β2^t) + eps)` (METHOD §7).
public final class AdamW {
    /// Hyper-parameters other than the learning rate (which is set per step).
    public struct Hyperparameters: Codable, Equatable, Sendable {
        public var beta1: Float
        public var beta2: Float
        public var epsilon: Float
        /// Decay applied to the parameters inside `decayRanges` (matrices); 0 elsewhere.
        public var weightDecay: Float

        /// METHOD §7's values: betas (0.9, 0.95), eps 1e-8, weight decay 0.05.
        public init(beta1: Float = 0.9, beta2: Float = 0.95, epsilon: Float = 1e-8, weightDecay: Float = 0.05) {
            self.beta1 = beta1; self.beta2 = beta2; self.epsilon = epsilon; self.weightDecay = weightDecay
        }
    }

    /// The optimiser's state, for checkpoints: steps taken and both moment buffers.
    public struct State: Equatable, Sendable {
        public var step: Int
        /// First moments m: [count]
        public var m: [Float]
        /// Second moments v: [count]
        public var v: [Float]
        public init(step: Int, m: [Float], v: [Float]) { self.step = step; self.m = m; self.v = v }
    }

    /// Parameters this optimiser updates.
    public let count: Int
    public var hyperparameters: Hyperparameters
    /// Threads for the update (pieces of at least 32K elements each).
    public var threads: Int
    /// Steps taken so far (the t of the bias corrections after the next step is `step + 1`).
    public private(set) var step: Int = 0

    private let m: UnsafeMutableBufferPointer<Float>  // [count]
    private let v: UnsafeMutableBufferPointer<Float>  // [count]

    /// An optimiser for `count` parameters, with zero moments.
    public init(count: Int, hyperparameters: Hyperparameters = .init(), threads: Int = 1) {
        self.count = max(0, count)
        self.hyperparameters = hyperparameters
        self.threads = max(1, threads)
        m = .allocate(capacity: self.count); m.initialize(repeating: 0)
        v = .allocate(capacity: self.count); v.initialize(repeating: 0)
    }

    /// An optimiser for every float of `arena`'s storage, padding between views included (the
    /// padding's values and gradients stay zero, so its update is zero): `step` then takes
    /// `arena.values.buffer` and `arena.gradients.buffer` as they are, for any tensor sizes.
    public convenience init(arena: ParameterArena, hyperparameters: Hyperparameters = .init(), threads: Int = 1) {
        self.init(count: arena.values.count, hyperparameters: hyperparameters, threads: threads)
    }

    deinit { m.deallocate(); v.deallocate() }

    /// The state to save in a checkpoint (copies the moments).
    public var state: State { State(step: step, m: Array(m), v: Array(v)) }

    /// The moment buffers as they are, m and v: [count] each, for writing a checkpoint without a
    /// copy (valid while the optimiser lives; they change at the next `step`).
    public var moments: (m: UnsafeBufferPointer<Float>, v: UnsafeBufferPointer<Float>) {
        (UnsafeBufferPointer(m), UnsafeBufferPointer(v))
    }

    /// Restores a checkpoint's state in place: `fill` writes both moment buffers (m, v: [count]
    /// each; e.g. straight from a checkpoint file); the step is set once it returns.
    public func load(step: Int, fill: (UnsafeMutableBufferPointer<Float>, UnsafeMutableBufferPointer<Float>) throws -> Void) throws {
        guard step >= 0 else { throw AdamWError.negativeStep(step) }
        try fill(m, v)
        self.step = step
    }

    /// Restores a checkpoint's state; the moment buffers must have `count` elements.
    public func load(_ state: State) throws {
        guard state.m.count == count, state.v.count == count else {
            throw AdamWError.stateSizeMismatch(expected: count, moments: state.m.count, secondMoments: state.v.count)
        }
        guard state.step >= 0 else { throw AdamWError.negativeStep(state.step) }
        step = state.step
        _ = m.update(fromContentsOf: state.m)
        _ = v.update(fromContentsOf: state.v)
    }

    /// Forgets all history (step 0, zero moments).
    public func reset() {
        step = 0
        m.update(repeating: 0)
        v.update(repeating: 0)
    }

    /// One AdamW step. Gradients are multiplied by `gradientScale` as they are read (use it for
    /// 1/accumulation-steps and a clipping coefficient, without another pass over the buffer).
    /// - Parameters:
    ///   - parameters: p: [count], updated in place.
    ///   - gradients: g: [count].
    ///   - decayRanges: ranges of `parameters` that get weight decay (the matrices); the rest get none.
    /// - rateScale: a range of `parameters` whose learning rate (step and decay) is multiplied by a
    ///   factor, e.g. a pretrained encoder fine-tuned more gently (0 freezes it).
    public func step(parameters: UnsafeMutableBufferPointer<Float>, gradients: UnsafeBufferPointer<Float>,
                     decayRanges: [Range<Int>], learningRate: Float, gradientScale: Float = 1,
                     rateScale: (range: Range<Int>, factor: Double)? = nil) {
        precondition(parameters.count == count && gradients.count == count,
                     "AdamW.step: \(parameters.count) parameters and \(gradients.count) gradients for an optimiser of \(count)")
        guard count > 0, let p = parameters.baseAddress, let g = gradients.baseAddress,
              let m = m.baseAddress, let v = v.baseAddress else { step += 1; return }
        step += 1
        let h = hyperparameters
        // Scalars as torch computes them: in double, then used as float by the kernels.
        let t = Double(step)
        let bias1 = 1 - pow(Double(h.beta1), t)
        let bias2 = 1 - pow(Double(h.beta2), t)
        let bias2Sqrt = Float(bias2.squareRoot())
        let segments = Self.segments(count: count, decayRanges: decayRanges, rateScale: rateScale)
        parallelFor(count: count, threads: threads) { piece in
            for (range, decays, factor) in segments {
                let lower = max(range.lowerBound, piece.lowerBound), upper = min(range.upperBound, piece.upperBound)
                guard lower < upper else { continue }
                let lr = Double(learningRate) * factor
                Self.update(p: p, g: g, m: m, v: v, range: lower..<upper,
                            decay: decays && h.weightDecay != 0 ? Float(1 - lr * Double(h.weightDecay)) : 1,
                            gradientScale: gradientScale, beta1: h.beta1, beta2: h.beta2, epsilon: h.epsilon,
                            stepSize: Float(lr / bias1), bias2Sqrt: bias2Sqrt)
            }
        }
    }

    /// `segments(count:decayRanges:)` cut further at the scaled range, each with its rate factor.
    static func segments(count: Int, decayRanges: [Range<Int>],
                         rateScale: (range: Range<Int>, factor: Double)?) -> [(Range<Int>, Bool, Double)] {
        let plain = segments(count: count, decayRanges: decayRanges)
        guard let rateScale, rateScale.factor != 1 else { return plain.map { ($0.0, $0.1, 1) } }
        let scaled = rateScale.range
        return plain.flatMap { range, decays -> [(Range<Int>, Bool, Double)] in
            let inside = range.clamped(to: scaled)
            guard !inside.isEmpty else { return [(range, decays, 1)] }
            return [(range.lowerBound..<inside.lowerBound, decays, 1.0), (inside, decays, rateScale.factor),
                    (inside.upperBound..<range.upperBound, decays, 1.0)].filter { !$0.0.isEmpty }
        }
    }

    /// Array convenience for `step` (tests, small models).
    public func step(parameters: inout [Float], gradients: [Float], decayRanges: [Range<Int>],
                     learningRate: Float, gradientScale: Float = 1) {
        parameters.withUnsafeMutableBufferPointer { p in
            gradients.withUnsafeBufferPointer { g in
                step(parameters: p, gradients: g, decayRanges: decayRanges, learningRate: learningRate,
                     gradientScale: gradientScale)
            }
        }
    }

    /// `0..<count` cut into consecutive segments flagged with whether they decay.
    static func segments(count: Int, decayRanges: [Range<Int>]) -> [(Range<Int>, Bool)] {
        let sorted = decayRanges.map { $0.clamped(to: 0..<count) }.filter { !$0.isEmpty }
            .sorted { $0.lowerBound < $1.lowerBound }
        var out: [(Range<Int>, Bool)] = []
        var cursor = 0
        for r in sorted {
            let lower = max(cursor, r.lowerBound)
            if lower > cursor { out.append((cursor..<lower, false)) }
            if r.upperBound > lower { out.append((lower..<r.upperBound, true)); cursor = r.upperBound }
        }
        if cursor < count { out.append((cursor..<count, false)) }
        return out
    }

    /// The element-wise update on `range`, in torch's operation order (so lanes round alike):
    /// p *= decay; m = m + (1-β1)(g-m); v = β2 v + (1-β2) g g; p += -stepSize * m / (sqrt(v)/bias2Sqrt + eps).
    /// Four lanes at a time with a packed square root: Swift lowers `squareRoot()` on scalars and
    /// SIMD vectors lane by lane through `sqrtf`, which made this loop 4-5x slower.
    @inline(__always)
    static func update(p: UnsafeMutablePointer<Float>, g: UnsafePointer<Float>, m: UnsafeMutablePointer<Float>,
                       v: UnsafeMutablePointer<Float>, range: Range<Int>, decay: Float, gradientScale: Float,
                       beta1: Float, beta2: Float, epsilon: Float, stepSize: Float, bias2Sqrt: Float) {
        typealias V = SIMD4<Float>
        let w1 = 1 - beta1, w2 = 1 - beta2, negStep = -stepSize
        var i = range.lowerBound
        while i + 4 <= range.upperBound {
            let gi = UnsafeRawPointer(g + i).loadUnaligned(as: V.self) * gradientScale
            var mi = UnsafeRawPointer(m + i).loadUnaligned(as: V.self)
            mi = mi + w1 * (gi - mi)
            let vi = UnsafeRawPointer(v + i).loadUnaligned(as: V.self) * beta2 + w2 * gi * gi
            let pi = UnsafeRawPointer(p + i).loadUnaligned(as: V.self) * decay
                + negStep * mi / (packedSquareRoot(vi) / bias2Sqrt + epsilon)
            UnsafeMutableRawPointer(p + i).storeBytes(of: pi, as: V.self)
            UnsafeMutableRawPointer(m + i).storeBytes(of: mi, as: V.self)
            UnsafeMutableRawPointer(v + i).storeBytes(of: vi, as: V.self)
            i += 4
        }
        while i < range.upperBound {
            let gi = g[i] * gradientScale
            let mi = m[i] + w1 * (gi - m[i])
            let vi = v[i] * beta2 + w2 * gi * gi
            m[i] = mi
            v[i] = vi
            p[i] = p[i] * decay + negStep * mi / (vi.squareRoot() / bias2Sqrt + epsilon)
            i += 1
        }
    }
}

/// Square roots of four floats in one instruction where the CPU has one (SSE on x86-64).
@inline(__always)
func packedSquareRoot(_ x: SIMD4<Float>) -> SIMD4<Float> {
    #if arch(x86_64)
    return _mm_sqrt_ps(x)
    #else
    return x.squareRoot()
    #endif
}
