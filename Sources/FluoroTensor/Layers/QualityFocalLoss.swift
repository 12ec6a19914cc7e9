import Foundation

/// Quality focal loss (Li et al., "Generalized Focal Loss", NeurIPS 2020) for a heatmap with soft
/// targets y ∈ [0, 1]: per pixel |y - σ(x)|^β · BCE(x, y), summed and divided by `normaliser` (the
/// tracker uses the number of landmarks in the batch). Pixels the network already gets right weigh
/// ~0, so the few pixels at a landmark are not drowned by the thousands of easy background pixels —
/// the reason plain pixel-mean BCE and soft Dice stall on σ = 2 px targets in 128 px crops.
public enum QualityFocalLoss {
    /// The focusing exponent β of the paper (2).
    public static let beta: Double = 2

    /// The loss; with `gradient`, also adds scale · dLoss/dx there. Sums in Double (the FD checks
    /// resolve it). - logits, targets, gradient: [n].
    public static func forward(logits: UnsafePointer<Float>, targets: UnsafePointer<Float>, count n: Int, normaliser: Double,
                               gradient: UnsafeMutablePointer<Float>? = nil, scale: Float = 1) -> Double {
        let blocks = (n + block - 1) / block
        let c = Double(scale) / normaliser
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: max(1, blocks)) { partial -> Double in
            Parallel.chunks(blocks, minimumChunk: 4) { range in
                for b in range {
                    let start = b * block, end = min(n, start + block)
                    partial[b] = pixels(start..<end, logits, targets, gradient, c)
                }
            }
            var sum = 0.0
            for b in 0..<blocks { sum += partial[b] }
            return sum / normaliser
        }
    }

    static let block = 4096

    /// Σ of the loss terms over `range`; adds c · d/dx to `gradient` when given.
    static func pixels(_ range: Range<Int>, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>,
                       _ gradient: UnsafeMutablePointer<Float>?, _ c: Double) -> Double {
        var sum = 0.0
        for i in range {
            let (value, slope) = term(logit: Double(x[i]), target: Double(y[i]))
            sum += value
            if let gradient { gradient[i] += Float(c * slope) }
        }
        return sum
    }

    /// One pixel's |y - p|^β · BCE and its derivative in the logit (β = 2, p = σ(x)).
    @inline(__always) static func term(logit x: Double, target y: Double) -> (value: Double, slope: Double) {
        let e = exp(-abs(x))
        let p = x >= 0 ? 1 / (1 + e) : e / (1 + e)
        let bce = max(x, 0) - x * y + log1p(e)
        let r = p - y
        let weight = r * r
        // d/dx [r² · bce] = 2 r · p(1-p) · bce + r² · (p - y)
        return (weight * bce, 2 * r * p * (1 - p) * bce + weight * r)
    }
}
