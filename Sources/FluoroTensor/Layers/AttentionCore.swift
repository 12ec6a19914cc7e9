import CFluoroKernels
import Foundation

/// Scaled dot-product attention over heads, softmax(q kᵀ / √dh) v, reading q, k and v in place
/// from row-strided buffers (e.g. the [B, N, 3, H, dh] output of a qkv projection) so no permute
/// copies are needed. One sgemm per (batch, head) for each product.
public enum AttentionCore {
    /// Sizes and row strides of one attention call.
    public struct Shape: Sendable {
        /// Batch, heads, query tokens, key tokens, head width.
        public var batch: Int, heads: Int, queries: Int, keys: Int, headWidth: Int
        /// Floats between consecutive token rows of q, k, v and out.
        public var qStride: Int, kStride: Int, vStride: Int, outStride: Int

        public init(batch: Int, heads: Int, queries: Int, keys: Int, headWidth: Int,
                    qStride: Int, kStride: Int, vStride: Int, outStride: Int) {
            self.batch = batch; self.heads = heads; self.queries = queries; self.keys = keys
            self.headWidth = headWidth
            self.qStride = qStride; self.kStride = kStride; self.vStride = vStride; self.outStride = outStride
        }
    }

    /// out = softmax(q kᵀ · scale) v per batch and head.
    /// - q: [B, Nq, qStride] (head h at columns h*dh..<(h+1)*dh), k: [B, Nk, kStride], v: [B, Nk, vStride];
    ///   out: [B, Nq, outStride]; probs: [B, H, Nq, Nk] (cached for backward).
    public static func forward(out: UnsafeMutablePointer<Float>, probs: UnsafeMutablePointer<Float>,
                               q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                               shape s: Shape) {
        let scale = 1 / Float(s.headWidth).squareRoot()
        let (Nq, Nk, dh) = (s.queries, s.keys, s.headWidth)
        Parallel.forEach(s.batch * s.heads) { bh in
            let b = bh / s.heads, h = bh % s.heads
            let qb = q + b * Nq * s.qStride + h * dh
            let kb = k + b * Nk * s.kStride + h * dh
            let vb = v + b * Nk * s.vStride + h * dh
            let p = probs + bh * Nq * Nk
            // p[Nq, Nk] = scale · q kᵀ
            BLAS.sgemm(transB: true, m: Nq, n: Nk, k: dh, alpha: scale, a: qb, lda: s.qStride,
                       b: kb, ldb: s.kStride, c: p)
            softmaxRows(p, rows: Nq, columns: Nk)
            // out[Nq, dh] = p v
            BLAS.sgemm(m: Nq, n: dh, k: Nk, a: p, b: vb, ldb: s.vStride,
                       c: out + b * Nq * s.outStride + h * dh, ldc: s.outStride)
        }
    }

    /// Adds the gradients into dq, dk, dv (same layouts and strides as q, k, v); with `overwrite`
    /// they are written instead (each (batch, head) block is written exactly once).
    /// - dOut: [B, Nq, outStride]; probs: from forward; scratch: [B, H, Nq, Nk].
    public static func backward(dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>,
                                dv: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>,
                                q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                                probs: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Float>,
                                shape s: Shape, overwrite: Bool = false) {
        let scale = 1 / Float(s.headWidth).squareRoot()
        let (Nq, Nk, dh) = (s.queries, s.keys, s.headWidth)
        let beta: Float = overwrite ? 0 : 1
        Parallel.forEach(s.batch * s.heads) { bh in
            let b = bh / s.heads, h = bh % s.heads
            let qOff = b * Nq * s.qStride + h * dh
            let kOff = b * Nk * s.kStride + h * dh
            let vOff = b * Nk * s.vStride + h * dh
            let g = dOut + b * Nq * s.outStride + h * dh
            let p = probs + bh * Nq * Nk
            let dp = scratch + bh * Nq * Nk
            // dv[Nk, dh] += pᵀ dOut
            BLAS.sgemm(transA: true, m: Nk, n: dh, k: Nq, a: p, lda: Nk, b: g, ldb: s.outStride,
                       beta: beta, c: dv + vOff, ldc: s.vStride)
            // dp[Nq, Nk] = dOut vᵀ
            BLAS.sgemm(transB: true, m: Nq, n: Nk, k: dh, a: g, lda: s.outStride, b: v + vOff, ldb: s.vStride, c: dp)
            // ds = p ⊙ (dp - Σ_j dp p), in place in dp
            for r in 0..<Nq {
                let pr = p + r * Nk, dr = dp + r * Nk
                let dot = VectorMath.F8(repeating: VectorMath.dot(pr, dr, Nk))
                var j = 0
                while j + 8 <= Nk {
                    VectorMath.store(VectorMath.load(pr + j) * (VectorMath.load(dr + j) - dot), dr + j); j += 8
                }
                while j < Nk { dr[j] = pr[j] * (dr[j] - dot[0]); j += 1 }
            }
            // dq[Nq, dh] += scale · ds k;  dk[Nk, dh] += scale · dsᵀ q
            BLAS.sgemm(m: Nq, n: dh, k: Nk, alpha: scale, a: dp, b: k + kOff, ldb: s.kStride,
                       beta: beta, c: dq + qOff, ldc: s.qStride)
            BLAS.sgemm(transA: true, m: Nk, n: dh, k: Nq, alpha: scale, a: dp, lda: Nk, b: q + qOff, ldb: s.qStride,
                       beta: beta, c: dk + kOff, ldc: s.kStride)
        }
    }

    /// Numerically stable softmax of each row of x: [rows, columns], in place (CFluoroKernels'
    /// vectorised C: max, then e^(x - max) and its sum, then the scale).
    public static func softmaxRows(_ x: UnsafeMutablePointer<Float>, rows: Int, columns: Int) {
        fk_softmax_rows(x, rows, columns)
    }
}
