/// A pre-norm ViT block (VideoMAE): x2 = x + attn(norm1(x)); out = x2 + fc2(gelu(fc1(norm2(x2)))).
public enum TransformerBlock {
    /// Pointers to one block's parameters (or their gradients).
    public struct Weights {
        /// norm1/norm2 weight and bias: [D]; fc1: [4D, D] + [4D]; fc2: [D, 4D] + [D].
        public var norm1Weight, norm1Bias: UnsafeMutablePointer<Float>
        public var attention: SelfAttention.Weights
        public var norm2Weight, norm2Bias: UnsafeMutablePointer<Float>
        public var fc1Weight, fc1Bias, fc2Weight, fc2Bias: UnsafeMutablePointer<Float>

        public init(norm1Weight: UnsafeMutablePointer<Float>, norm1Bias: UnsafeMutablePointer<Float>,
                    attention: SelfAttention.Weights,
                    norm2Weight: UnsafeMutablePointer<Float>, norm2Bias: UnsafeMutablePointer<Float>,
                    fc1Weight: UnsafeMutablePointer<Float>, fc1Bias: UnsafeMutablePointer<Float>,
                    fc2Weight: UnsafeMutablePointer<Float>, fc2Bias: UnsafeMutablePointer<Float>) {
            self.norm1Weight = norm1Weight; self.norm1Bias = norm1Bias; self.attention = attention
            self.norm2Weight = norm2Weight; self.norm2Bias = norm2Bias
            self.fc1Weight = fc1Weight; self.fc1Bias = fc1Bias; self.fc2Weight = fc2Weight; self.fc2Bias = fc2Bias
        }
        var mlp: MLPBranch.Weights {
            .init(normWeight: norm2Weight, normBias: norm2Bias, fc1Weight: fc1Weight, fc1Bias: fc1Bias, fc2Weight: fc2Weight, fc2Bias: fc2Bias)
        }
    }

    /// Sizes of one block call.
    public struct Shape: Sendable, Equatable {
        public var batch: Int, tokens: Int, width: Int, heads: Int, hidden: Int
        public init(batch: Int, tokens: Int, width: Int, heads: Int, mlpRatio: Int = 4) {
            self.batch = batch; self.tokens = tokens; self.width = width; self.heads = heads; hidden = mlpRatio * width
        }
        var rows: Int { batch * tokens }
    }

    /// What one block keeps from forward for backward (allocated once).
    public final class Activations {
        /// norm1, x2, norm2: [M, D]; mean/rstd: [M]; qkv: [M, 3D]; probs: [B, H, N, N];
        /// attended: [M, D]; fc1 (GELU' of the fc1 output, after forward), gelu: [M, 4D].
        public let norm1, mean1, rstd1, qkv, probs, attended, x2, norm2, mean2, rstd2, fc1, gelu: FloatBuffer
        /// The qkv product's bias [3D], rebuilt from the weights each forward.
        let qkvBias: FloatBuffer
        public init(_ s: Shape) {
            let M = s.rows, D = s.width
            norm1 = FloatBuffer(count: M * D); mean1 = FloatBuffer(count: M); rstd1 = FloatBuffer(count: M)
            qkv = FloatBuffer(count: M * 3 * D); probs = FloatBuffer(count: s.batch * s.heads * s.tokens * s.tokens)
            attended = FloatBuffer(count: M * D); x2 = FloatBuffer(count: M * D)
            norm2 = FloatBuffer(count: M * D); mean2 = FloatBuffer(count: M); rstd2 = FloatBuffer(count: M)
            fc1 = FloatBuffer(count: M * s.hidden); gelu = FloatBuffer(count: M * s.hidden)
            qkvBias = FloatBuffer(count: 3 * D)
        }
        var attentionCache: SelfAttention.Cache {
            .init(qkv: qkv.pointer, probs: probs.pointer, attended: attended.pointer, qkvBias: qkvBias.pointer)
        }
        var mlpCache: MLPBranch.Cache { .init(norm: norm2.pointer, mean: mean2.pointer, rstd: rstd2.pointer, fc1: fc1.pointer, gelu: gelu.pointer) }
    }

    /// Backward scratch, shareable by every block of the same shape.
    public final class Scratch {
        /// dNorm: [M, D]; dHidden, dFc1: [M, 4D]; dQkv: [M, 3D]; dAttended: [M, D]; dScores: [B, H, N, N].
        public let dNorm, dHidden, dFc1, dQkv, dAttended, dScores: FloatBuffer
        public init(_ s: Shape) {
            let M = s.rows, D = s.width
            dNorm = FloatBuffer(count: M * D); dHidden = FloatBuffer(count: M * s.hidden); dFc1 = FloatBuffer(count: M * s.hidden)
            dQkv = FloatBuffer(count: M * 3 * D); dAttended = FloatBuffer(count: M * D)
            dScores = FloatBuffer(count: s.batch * s.heads * s.tokens * s.tokens)
        }
        var mlp: MLPBranch.Scratch { .init(dHidden: dHidden.pointer, dFc1: dFc1.pointer, dNorm: dNorm.pointer) }
    }

    /// out: [B, N, D] = block(input: [B, N, D]); fills `acts`.
    public static func forward(out: UnsafeMutablePointer<Float>, acts: Activations, input: UnsafePointer<Float>,
                               weights w: Weights, shape s: Shape, eps: Float = 1e-6) {
        let M = s.rows, D = s.width
        LayerNorm.forward(out: acts.norm1.pointer, mean: acts.mean1.pointer, rstd: acts.rstd1.pointer, input: input,
                          weight: w.norm1Weight, bias: w.norm1Bias, rows: M, channels: D, eps: eps)
        SelfAttention.forward(out: acts.x2.pointer, cache: acts.attentionCache, input: acts.norm1.pointer,
                              weights: w.attention, batch: s.batch, tokens: s.tokens, width: D, heads: s.heads)
        Elementwise.add(into: acts.x2.pointer, input, count: M * D)
        MLPBranch.forward(out: out, input: acts.x2.pointer, weights: w.mlp, cache: acts.mlpCache, rows: M, width: D,
                          hidden: s.hidden, eps: eps)
    }

    /// Backward through the block, in place on the residual stream's gradient, adding into `grads`.
    /// - dStream: [B, N, D]; holds dOut on entry and dInput on return (the residual passes it through).
    /// - input: the block's forward input [B, N, D].
    public static func backward(dStream: UnsafeMutablePointer<Float>, grads: Weights, input: UnsafePointer<Float>,
                                weights w: Weights, acts: Activations, scratch: Scratch, shape s: Shape) {
        let M = s.rows, D = s.width, Hd = s.hidden
        // MLP branch: reads dOut before the stream is changed.
        MLPBranch.backward(dStream: dStream, grads: grads.mlp, input: acts.x2.pointer, weights: w.mlp, cache: acts.mlpCache,
                           scratch: scratch.mlp, rows: M, width: D, hidden: Hd)
        // dStream now holds dx2. Attention branch.
        SelfAttention.backward(overwriteInput: true, dInput: scratch.dNorm.pointer, grads: grads.attention, dOut: dStream, input: acts.norm1.pointer,
                               weights: w.attention, cache: acts.attentionCache,
                               scratch: .init(dQkv: scratch.dQkv.pointer, dAttended: scratch.dAttended.pointer,
                                              dScores: scratch.dScores.pointer),
                               batch: s.batch, tokens: s.tokens, width: D, heads: s.heads)
        LayerNorm.backward(dInput: dStream, dWeight: grads.norm1Weight, dBias: grads.norm1Bias, dOut: scratch.dNorm.pointer,
                           input: input, weight: w.norm1Weight, mean: acts.mean1.pointer, rstd: acts.rstd1.pointer,
                           rows: M, channels: D)
    }
}
