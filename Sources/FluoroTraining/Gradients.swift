import Foundation

/// Whole-buffer operations on a flat gradient mirror: global norm and clipping, scaling for
/// gradient accumulation, and a fast check for NaN/Inf. Vectorised, parallel over `threads`.
public enum Gradients {
    private typealias V = SIMD16<Float>

    /// Sum of squares of `g`, accumulated in double per piece (deterministic for a thread count).
    public static func squaredNorm(_ g: UnsafeBufferPointer<Float>, threads: Int = 1) -> Double {
        guard let base = g.baseAddress else { return 0 }
        let partials = parallelPartials(count: g.count, threads: threads, initial: 0.0) { r -> Double in
            var total = 0.0
            var i = r.lowerBound
            // Float lanes summed over blocks of 1024 elements, then flushed to double.
            while i + 16 <= r.upperBound {
                let blockEnd = min(r.upperBound, i + 1024)
                var acc = V()
                while i + 16 <= blockEnd {
                    let x = UnsafeRawPointer(base + i).loadUnaligned(as: V.self)
                    acc = acc + x * x
                    i += 16
                }
                total += Double(acc.sum())
            }
            while i < r.upperBound { total += Double(base[i]) * Double(base[i]); i += 1 }
            return total
        }
        return partials.reduce(0, +)
    }

    /// The L2 norm of the whole gradient buffer (as `torch.nn.utils.clip_grad_norm_` computes it).
    public static func globalNorm(_ g: UnsafeBufferPointer<Float>, threads: Int = 1) -> Float {
        Float(squaredNorm(g, threads: threads).squareRoot())
    }

    /// The factor `clip_grad_norm_` multiplies gradients by: min(1, maxNorm / (norm + 1e-6)).
    public static func clipCoefficient(norm: Float, maxNorm: Float) -> Float {
        min(1, maxNorm / (norm + 1e-6))
    }

    /// Clips `g` in place to global norm `maxNorm` and returns the norm before clipping.
    /// (To avoid the extra pass, pass `clipCoefficient` to `AdamW.step(gradientScale:)` instead.)
    @discardableResult
    public static func clipByGlobalNorm(_ g: UnsafeMutableBufferPointer<Float>, maxNorm: Float, threads: Int = 1) -> Float {
        let norm = globalNorm(UnsafeBufferPointer(g), threads: threads)
        let c = clipCoefficient(norm: norm, maxNorm: maxNorm)
        if c < 1 { scale(g, by: c, threads: threads) }
        return norm
    }

    /// g *= factor (e.g. 1 / micro-batches after accumulating gradients).
    public static func scale(_ g: UnsafeMutableBufferPointer<Float>, by factor: Float, threads: Int = 1) {
        guard let base = g.baseAddress else { return }
        parallelFor(count: g.count, threads: threads) { r in
            var i = r.lowerBound
            while i + 16 <= r.upperBound {
                let x = UnsafeRawPointer(base + i).loadUnaligned(as: V.self)
                UnsafeMutableRawPointer(base + i).storeBytes(of: x * factor, as: V.self)
                i += 16
            }
            while i < r.upperBound { base[i] *= factor; i += 1 }
        }
    }

    /// accumulator += g (for gradient accumulation when micro-batch gradients land elsewhere).
    public static func add(_ g: UnsafeBufferPointer<Float>, into accumulator: UnsafeMutableBufferPointer<Float>,
                           threads: Int = 1) {
        precondition(g.count == accumulator.count, "Gradients.add: \(g.count) values into \(accumulator.count)")
        guard let src = g.baseAddress, let dst = accumulator.baseAddress else { return }
        parallelFor(count: g.count, threads: threads) { r in
            var i = r.lowerBound
            while i + 16 <= r.upperBound {
                let x = UnsafeRawPointer(src + i).loadUnaligned(as: V.self)
                let y = UnsafeRawPointer(dst + i).loadUnaligned(as: V.self)
                UnsafeMutableRawPointer(dst + i).storeBytes(of: x + y, as: V.self)
                i += 16
            }
            while i < r.upperBound { dst[i] += src[i]; i += 1 }
        }
    }

    /// Sets every gradient to zero (before the first micro-batch of a step).
    public static func zero(_ g: UnsafeMutableBufferPointer<Float>) {
        guard let base = g.baseAddress else { return }
        memset(base, 0, g.count * MemoryLayout<Float>.stride)
    }

    /// True when every value is finite. Branch-free: x * 0 is 0 for finite x and NaN for NaN or
    /// ±Inf, so a running sum of x * 0 is NaN exactly when some value is not finite.
    public static func allFinite(_ g: UnsafeBufferPointer<Float>, threads: Int = 1) -> Bool {
        guard let base = g.baseAddress else { return true }
        let partials = parallelPartials(count: g.count, threads: threads, initial: true) { r -> Bool in
            var acc = V()
            var i = r.lowerBound
            while i + 16 <= r.upperBound {
                acc = acc + UnsafeRawPointer(base + i).loadUnaligned(as: V.self) * 0
                i += 16
            }
            var tail: Float = 0
            while i < r.upperBound { tail += base[i] * 0; i += 1 }
            return (acc.sum() + tail) == 0
        }
        return !partials.contains(false)
    }

    /// The index of the first NaN or ±Inf in `g`, or nil (a scalar scan: call after `allFinite`
    /// fails, to say where).
    public static func firstNonFinite(_ g: UnsafeBufferPointer<Float>) -> Int? {
        g.firstIndex { !$0.isFinite }
    }
}
