/// HiFT's MCA decoder block (METHOD §10): x2 = x + CrossAttn(LN_q(x), LN_kv(c)); out = x2 + MLP(LN2(x2)),
/// with an erf-GELU MLP. Queries x: [B, Nq, D]; context c: [B, Nk, D]. With Nk = 0 the
/// cross-attention branch is skipped (nothing to attend to) and the block is x + MLP(LN2(x)).
public enum CrossAttentionBlock {
    /// Pointers to one block's parameters (or their gradients).
    public struct Weights {
        /// Norms: [D]; attention: CrossAttention's; fc1: [4D, D] + [4D]; fc2: [D, 4D] + [D].
        public var normQWeight, normQBias, normKvWeight, normKvBias: UnsafeMutablePointer<Float>
        public var attention: CrossAttention.Weights
        public var norm2Weight, norm2Bias, fc1Weight, fc1Bias, fc2Weight, fc2Bias: UnsafeMutablePointer<Float>

        public init(normQWeight: UnsafeMutablePointer<Float>, normQBias: UnsafeMutablePointer<Float>,
                    normKvWeight: UnsafeMutablePointer<Float>, normKvBias: UnsafeMutablePointer<Float>,
                    attention: CrossAttention.Weights, norm2Weight: UnsafeMutablePointer<Float>, norm2Bias: UnsafeMutablePointer<Float>,
                    fc1Weight: UnsafeMutablePointer<Float>, fc1Bias: UnsafeMutablePointer<Float>,
                    fc2Weight: UnsafeMutablePointer<Float>, fc2Bias: UnsafeMutablePointer<Float>) {
            self.normQWeight = normQWeight; self.normQBias = normQBias; self.normKvWeight = normKvWeight; self.normKvBias = normKvBias
            self.attention = attention; self.norm2Weight = norm2Weight; self.norm2Bias = norm2Bias
            self.fc1Weight = fc1Weight; self.fc1Bias = fc1Bias; self.fc2Weight = fc2Weight; self.fc2Bias = fc2Bias
        }
        var mlp: MLPBranch.Weights {
            .init(normWeight: norm2Weight, normBias: norm2Bias, fc1Weight: fc1Weight, fc1Bias: fc1Bias, fc2Weight: fc2Weight, fc2Bias: fc2Bias)
        }
    }

    /// Sizes of one block call.
    public struct Shape: Sendable, Equatable {
        public var batch: Int, queries: Int, context: Int, width: Int, heads: Int, hidden: Int
        public init(batch: Int, queries: Int, context: Int, width: Int, heads: Int, mlpRatio: Int = 4) {
            self.batch = batch; self.queries = queries; self.context = context; self.width = width; self.heads = heads
            hidden = mlpRatio * width
        }
        var rows: Int { batch * queries }
        var contextRows: Int { batch * context }
    }

    /// What one block keeps from forward for backward (allocated once).
    public final class Activations {
        /// normQ, attended, x2, norm2: [M, D]; normKv: [Mc, D]; means/rstds per row; q: [M, D];
        /// kv: [Mc, 2D]; probs: [B, H, Nq, Nk]; fc1 (GELU' after forward), gelu: [M, 4D].
        public let normQ, meanQ, rstdQ, normKv, meanKv, rstdKv, q, kv, probs, attended, x2, norm2, mean2, rstd2, fc1, gelu: FloatBuffer
        /// The kv product's bias [2D], rebuilt from the weights each forward.
        let kvBias: FloatBuffer
        public init(_ s: Shape) {
            let M = s.rows, Mc = s.contextRows, D = s.width
            normQ = FloatBuffer(count: M * D); meanQ = FloatBuffer(count: M); rstdQ = FloatBuffer(count: M)
            normKv = FloatBuffer(count: Mc * D); meanKv = FloatBuffer(count: Mc); rstdKv = FloatBuffer(count: Mc)
            q = FloatBuffer(count: M * D); kv = FloatBuffer(count: Mc * 2 * D)
            probs = FloatBuffer(count: s.batch * s.heads * s.queries * s.context)
            attended = FloatBuffer(count: M * D); x2 = FloatBuffer(count: M * D)
            norm2 = FloatBuffer(count: M * D); mean2 = FloatBuffer(count: M); rstd2 = FloatBuffer(count: M)
            fc1 = FloatBuffer(count: M * s.hidden); gelu = FloatBuffer(count: M * s.hidden)
            kvBias = FloatBuffer(count: 2 * D)
        }
        var cache: CrossAttention.Cache {
            .init(q: q.pointer, kv: kv.pointer, probs: probs.pointer, attended: attended.pointer, kvBias: kvBias.pointer)
        }
        var mlpCache: MLPBranch.Cache { .init(norm: norm2.pointer, mean: mean2.pointer, rstd: rstd2.pointer, fc1: fc1.pointer, gelu: gelu.pointer) }
    }

    /// Backward scratch, shareable by every block of the same shape.
    public final class Scratch {
        /// dNorm: [M, D]; dNormKv: [Mc, D]; dHidden, dFc1: [M, 4D]; dQ, dAttended: [M, D]; dKv: [Mc, 2D]; dScores: [B, H, Nq, Nk].
        public let dNorm, dNormKv, dHidden, dFc1, dQ, dAttended, dKv, dScores: FloatBuffer
        public init(_ s: Shape) {
            let M = s.rows, Mc = s.contextRows, D = s.width
            dNorm = FloatBuffer(count: M * D); dNormKv = FloatBuffer(count: Mc * D)
            dHidden = FloatBuffer(count: M * s.hidden); dFc1 = FloatBuffer(count: M * s.hidden)
            dQ = FloatBuffer(count: M * D); dAttended = FloatBuffer(count: M * D); dKv = FloatBuffer(count: Mc * 2 * D)
            dScores = FloatBuffer(count: s.batch * s.heads * s.queries * s.context)
        }
        var mlp: MLPBranch.Scratch { .init(dHidden: dHidden.pointer, dFc1: dFc1.pointer, dNorm: dNorm.pointer) }
        var attention: CrossAttention.Scratch {
            .init(dQ: dQ.pointer, dKv: dKv.pointer, dAttended: dAttended.pointer, dScores: dScores.pointer)
        }
    }

    /// out: [B, Nq, D] = block(x: [B, Nq, D], c: [B, Nk, D]); fills `acts`. `out` may not alias `x`.
    public static func forward(out: UnsafeMutablePointer<Float>, acts: Activations, queries x: UnsafePointer<Float>,
                               context c: UnsafePointer<Float>, weights w: Weights, shape s: Shape, eps: Float = 1e-6) {
        let M = s.rows, D = s.width
        if s.context > 0 {
            LayerNorm.forward(out: acts.normQ.pointer, mean: acts.meanQ.pointer, rstd: acts.rstdQ.pointer, input: x,
                              weight: w.normQWeight, bias: w.normQBias, rows: M, channels: D, eps: eps)
            LayerNorm.forward(out: acts.normKv.pointer, mean: acts.meanKv.pointer, rstd: acts.rstdKv.pointer, input: c,
                              weight: w.normKvWeight, bias: w.normKvBias, rows: s.contextRows, channels: D, eps: eps)
            CrossAttention.forward(out: acts.x2.pointer, cache: acts.cache, queries: acts.normQ.pointer, context: acts.normKv.pointer,
                                   weights: w.attention, batch: s.batch, queryTokens: s.queries, contextTokens: s.context,
                                   width: D, heads: s.heads)
            Elementwise.add(into: acts.x2.pointer, x, count: M * D)
        } else {
            acts.x2.pointer.update(from: x, count: M * D)
        }
        MLPBranch.forward(out: out, input: acts.x2.pointer, weights: w.mlp, cache: acts.mlpCache, rows: M, width: D,
                          hidden: s.hidden, eps: eps)
    }

    /// Backward through the block, adding into `grads`.
    /// - dStream: [B, Nq, D]: dOut on entry, dx on return (the residual passes it through).
    /// - dContext: [B, Nk, D]: the context's gradient is added into it.
    public static func backward(dStream: UnsafeMutablePointer<Float>, dContext: UnsafeMutablePointer<Float>, grads: Weights,
                                queries x: UnsafePointer<Float>, context c: UnsafePointer<Float>, weights w: Weights,
                                acts: Activations, scratch: Scratch, shape s: Shape) {
        let M = s.rows, D = s.width, Hd = s.hidden
        MLPBranch.backward(dStream: dStream, grads: grads.mlp, input: acts.x2.pointer, weights: w.mlp, cache: acts.mlpCache,
                           scratch: scratch.mlp, rows: M, width: D, hidden: Hd)
        guard s.context > 0 else { return }
        // dStream holds dx2; the attention branch adds its part through LN_q and LN_kv.
        scratch.dNorm.pointer.update(repeating: 0, count: M * D)
        scratch.dNormKv.pointer.update(repeating: 0, count: s.contextRows * D)
        CrossAttention.backward(dQueries: scratch.dNorm.pointer, dContext: scratch.dNormKv.pointer, grads: grads.attention,
                                dOut: dStream, queries: acts.normQ.pointer, context: acts.normKv.pointer, weights: w.attention,
                                cache: acts.cache, scratch: scratch.attention, batch: s.batch, queryTokens: s.queries,
                                contextTokens: s.context, width: D, heads: s.heads)
        LayerNorm.backward(dInput: dStream, dWeight: grads.normQWeight, dBias: grads.normQBias, dOut: scratch.dNorm.pointer,
                           input: x, weight: w.normQWeight, mean: acts.meanQ.pointer, rstd: acts.rstdQ.pointer, rows: M, channels: D)
        LayerNorm.backward(dInput: dContext, dWeight: grads.normKvWeight, dBias: grads.normKvBias, dOut: scratch.dNormKv.pointer,
                           input: c, weight: w.normKvWeight, mean: acts.meanKv.pointer, rstd: acts.rstdKv.pointer,
                           rows: s.contextRows, channels: D)
    }
}
