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
        public init(_ s: Shape) {
            let M = s.rows, D = s.width
            norm1 = FloatBuffer(count: M * D); mean1 = FloatBuffer(count: M); rstd1 = FloatBuffer(count: M)
            qkv = FloatBuffer(count: M * 3 * D); probs = FloatBuffer(count: s.batch * s.heads * s.tokens * s.tokens)
            attended = FloatBuffer(count: M * D); x2 = FloatBuffer(count: M * D)
            norm2 = FloatBuffer(count: M * D); mean2 = FloatBuffer(count: M); rstd2 = FloatBuffer(count: M)
            fc1 = FloatBuffer(count: M * s.hidden); gelu = FloatBuffer(count: M * s.hidden)
        }
        var attentionCache: SelfAttention.Cache { .init(qkv: qkv.pointer, probs: probs.pointer, attended: attended.pointer) }
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
        LayerNorm.forward(out: acts.norm2.pointer, mean: acts.mean2.pointer, rstd: acts.rstd2.pointer, input: acts.x2.pointer,
                          weight: w.norm2Weight, bias: w.norm2Bias, rows: M, channels: D, eps: eps)
        Linear.forward(out: acts.fc1.pointer, input: acts.norm2.pointer, weight: w.fc1Weight, bias: w.fc1Bias,
                       rows: M, inFeatures: D, outFeatures: s.hidden)
        // fc1 is overwritten by GELU'(fc1): backward needs only the derivative.
        GELU.forward(out: acts.gelu.pointer, derivative: acts.fc1.pointer, input: acts.fc1.pointer, count: M * s.hidden)
        Linear.forward(out: out, input: acts.gelu.pointer, weight: w.fc2Weight, bias: w.fc2Bias,
                       rows: M, inFeatures: s.hidden, outFeatures: D)
        Elementwise.add(into: out, acts.x2.pointer, count: M * D)
    }

    /// Backward through the block, in place on the residual stream's gradient, adding into `grads`.
    /// - dStream: [B, N, D]; holds dOut on entry and dInput on return (the residual passes it through).
    /// - input: the block's forward input [B, N, D].
    public static func backward(dStream: UnsafeMutablePointer<Float>, grads: Weights, input: UnsafePointer<Float>,
                                weights w: Weights, acts: Activations, scratch: Scratch, shape s: Shape) {
        let M = s.rows, D = s.width, Hd = s.hidden
        // MLP branch: reads dOut before the stream is changed.
        Linear.backward(dInput: scratch.dHidden.pointer, dWeight: grads.fc2Weight, dBias: grads.fc2Bias, dOut: dStream,
                        input: acts.gelu.pointer, weight: w.fc2Weight, rows: M, inFeatures: Hd, outFeatures: D,
                        overwriteInput: true)
        GELU.backward(dInput: scratch.dFc1.pointer, dOut: scratch.dHidden.pointer, derivative: acts.fc1.pointer, count: M * Hd)
        Linear.backward(dInput: scratch.dNorm.pointer, dWeight: grads.fc1Weight, dBias: grads.fc1Bias, dOut: scratch.dFc1.pointer,
                        input: acts.norm2.pointer, weight: w.fc1Weight, rows: M, inFeatures: D, outFeatures: Hd,
                        overwriteInput: true)
        LayerNorm.backward(dInput: dStream, dWeight: grads.norm2Weight, dBias: grads.norm2Bias, dOut: scratch.dNorm.pointer,
                           input: acts.x2.pointer, weight: w.norm2Weight, mean: acts.mean2.pointer, rstd: acts.rstd2.pointer,
                           rows: M, channels: D)
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
