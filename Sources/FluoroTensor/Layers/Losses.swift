import Foundation

/// The FIMAE-SC loss terms and the reconstruction target.
public enum Losses {
    /// Per-token normalised pixels: (x - mean) / sqrt(unbiased var + 1e-6) over each row.
    /// - out, patches: [M, V].
    public static func normalisedTarget(out: UnsafeMutablePointer<Float>, patches: UnsafePointer<Float>,
                                        rows M: Int, values V: Int) {
        Parallel.chunks(M, minimumChunk: 64) { range in
            for r in range {
                let x = patches + r * V, o = out + r * V
                var s: Float = 0
                for j in 0..<V { s += x[j] }
                let m = s / Float(V)
                var v: Float = 0
                for j in 0..<V { let d = x[j] - m; v += d * d }
                let inv = 1 / (v / Float(V - 1) + 1e-6).squareRoot()
                for j in 0..<V { o[j] = (x[j] - m) * inv }
            }
        }
    }

    /// Mean squared error over the selected rows: Σ_{r∈rows} Σ_j (pred - target)² / (|rows| · V).
    /// - pred, target: [*, V] (indexed by row); rows: [R] row indices.
    public static func selectedMSE(pred: UnsafePointer<Float>, target: UnsafePointer<Float>,
                                   rows: UnsafePointer<Int32>, count R: Int, values V: Int) -> Float {
        var total: Double = 0
        for i in 0..<R {
            let r = Int(rows[i])
            let p = pred + r * V, t = target + r * V
            var acc = VectorMath.F8(), j = 0
            while j + 8 <= V { let d = VectorMath.load(p + j) - VectorMath.load(t + j); acc += d * d; j += 8 }
            var s = acc.sum()
            while j < V { let d = p[j] - t[j]; s += d * d; j += 1 }
            total += Double(s)
        }
        return Float(total / Double(R * V))
    }

    /// dPred[r] += scale · 2 (pred - target) / (R · V) for the selected rows.
    public static func selectedMSEBackward(dPred: UnsafeMutablePointer<Float>, pred: UnsafePointer<Float>,
                                           target: UnsafePointer<Float>, rows: UnsafePointer<Int32>,
                                           count R: Int, values V: Int, scale: Float) {
        let c = scale * 2 / Float(R * V)
        for i in 0..<R {
            let r = Int(rows[i])
            let p = pred + r * V, t = target + r * V, d = dPred + r * V
            var j = 0
            while j + 8 <= V {
                VectorMath.store(VectorMath.load(d + j) + c * (VectorMath.load(p + j) - VectorMath.load(t + j)), d + j); j += 8
            }
            while j < V { d[j] += c * (p[j] - t[j]); j += 1 }
        }
    }

    /// Mean binary cross-entropy with logits: mean(max(x,0) - x y + log(1 + e^{-|x|})).
    /// With `gradient`, also writes scale · (σ(x) - y) / n there in the same pass (one exp per value).
    /// - logits, labels, gradient: [n].
    public static func bceWithLogits(logits: UnsafePointer<Float>, labels: UnsafePointer<Float>, count n: Int,
                                     gradient: UnsafeMutablePointer<Float>? = nil, scale: Float = 1) -> Float {
        // Float sums over blocks of 4096, Double across blocks; blocks run in parallel.
        let block = 4096, blocks = (n + block - 1) / block
        let c = scale / Float(n)
        let total = withUnsafeTemporaryAllocation(of: Double.self, capacity: max(1, blocks)) { partial -> Double in
            Parallel.chunks(blocks, minimumChunk: 8) { range in
                for b in range {
                    let i = b * block, count = min(n, i + block) - i
                    partial[b] = Double(bceBlock(logits + i, labels + i, gradient.map { $0 + i }, count, c))
                }
            }
            var s: Double = 0
            for b in 0..<blocks { s += partial[b] }
            return s
        }
        return Float(total / Double(n))
    }

    /// Σ BCE terms over one block of `count` values; writes the scaled gradient when `gradient` is given.
    static func bceBlock(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ gradient: UnsafeMutablePointer<Float>?,
                         _ count: Int, _ scale: Float) -> Float {
        typealias F8 = VectorMath.F8
        let c = F8(repeating: scale), one = F8(repeating: 1), zero = F8()
        var acc = F8(), j = 0
        while j < count {
            let lanes = min(8, count - j)
            let xv = lanes == 8 ? VectorMath.load(x + j) : VectorMath.loadPartial(x + j, lanes)
            let yv = lanes == 8 ? VectorMath.load(y + j) : VectorMath.loadPartial(y + j, lanes)
            let e = VectorMath.exp(xv.replacing(with: -xv, where: xv .> 0))  // e^{-|x|}
            var term = VectorMath.max(xv, zero) - xv * yv + VectorMath.log1pUnit(e)
            if let gradient {
                let d = c * (one.replacing(with: e, where: xv .< 0) / (one + e) - yv)
                if lanes == 8 { VectorMath.store(d, gradient + j) } else { VectorMath.storePartial(d, gradient + j, lanes) }
            }
            if lanes < 8 { for k in lanes..<8 { term[k] = 0 } }
            acc += term
            j += 8
        }
        return acc.sum()
    }

    /// dLogits += scale · (σ(x) - y) / n (or = with `overwrite`).
    public static func bceWithLogitsBackward(dLogits: UnsafeMutablePointer<Float>, logits: UnsafePointer<Float>,
                                             labels: UnsafePointer<Float>, count n: Int, scale: Float,
                                             overwrite: Bool = false) {
        let c = scale / Float(n)
        typealias F8 = VectorMath.F8
        let keep = F8(repeating: overwrite ? 0 : 1)
        Parallel.chunks(n, minimumChunk: 1 << 14) { range in
            var j = range.lowerBound
            while j + 8 <= range.upperBound {
                let x = VectorMath.load(logits + j)
                let e = VectorMath.exp(x.replacing(with: -x, where: x .> 0))  // e^{-|x|}
                let s = (F8(repeating: 1).replacing(with: e, where: x .< 0)) / (1 + e)
                VectorMath.store(keep * VectorMath.load(dLogits + j) + c * (s - VectorMath.load(labels + j)), dLogits + j)
                j += 8
            }
            while j < range.upperBound { dLogits[j] = keep[0] * dLogits[j] + c * (sigmoid(logits[j]) - labels[j]); j += 1 }
        }
    }

    /// The logistic function 1 / (1 + e^{-x}), stable for large |x|.
    @inlinable public static func sigmoid(_ x: Float) -> Float {
        if x >= 0 { return 1 / (1 + expf(-x)) }
        let e = expf(x)
        return e / (1 + e)
    }
}
