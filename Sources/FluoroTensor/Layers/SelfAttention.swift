/// VideoMAE's multi-head self-attention: qkv = x Wqkvᵀ + [q_bias, 0, v_bias], per-head
/// softmax(q kᵀ / √(D/H)) v, then proj (with bias).
public enum SelfAttention {
    /// Pointers to one attention layer's parameters (or their gradients).
    public struct Weights {
        /// qkv: [3D, D]; qBias, vBias: [D]; projWeight: [D, D]; projBias: [D].
        public var qkv, qBias, vBias, projWeight, projBias: UnsafeMutablePointer<Float>
        public init(qkv: UnsafeMutablePointer<Float>, qBias: UnsafeMutablePointer<Float>, vBias: UnsafeMutablePointer<Float>,
                    projWeight: UnsafeMutablePointer<Float>, projBias: UnsafeMutablePointer<Float>) {
            self.qkv = qkv; self.qBias = qBias; self.vBias = vBias; self.projWeight = projWeight; self.projBias = projBias
        }
    }

    /// Activations kept for backward.
    public struct Cache {
        /// qkv: [B, N, 3D]; probs: [B, H, N, N]; attended: [B, N, D]; qkvBias: [3D], the product's
        /// bias [q_bias, 0, v_bias] (written by forward).
        public var qkv, probs, attended, qkvBias: UnsafeMutablePointer<Float>
        public init(qkv: UnsafeMutablePointer<Float>, probs: UnsafeMutablePointer<Float>, attended: UnsafeMutablePointer<Float>,
                    qkvBias: UnsafeMutablePointer<Float>) {
            self.qkv = qkv; self.probs = probs; self.attended = attended; self.qkvBias = qkvBias
        }
    }

    /// Scratch for backward: dQkv [B, N, 3D], dAttended [B, N, D], dScores [B, H, N, N].
    public struct Scratch {
        public var dQkv, dAttended, dScores: UnsafeMutablePointer<Float>
        public init(dQkv: UnsafeMutablePointer<Float>, dAttended: UnsafeMutablePointer<Float>, dScores: UnsafeMutablePointer<Float>) {
            self.dQkv = dQkv; self.dAttended = dAttended; self.dScores = dScores
        }
    }

    static func coreShape(B: Int, N: Int, D: Int, H: Int) -> AttentionCore.Shape {
        AttentionCore.Shape(batch: B, heads: H, queries: N, keys: N, headWidth: D / H,
                            qStride: 3 * D, kStride: 3 * D, vStride: 3 * D, outStride: D)
    }

    /// out: [B, N, D] = attention(input: [B, N, D]).
    public static func forward(out: UnsafeMutablePointer<Float>, cache: Cache, input: UnsafePointer<Float>,
                               weights w: Weights, batch B: Int, tokens N: Int, width D: Int, heads H: Int) {
        let M = B * N
        let bias = cache.qkvBias  // [q_bias, 0, v_bias]
        bias.update(from: w.qBias, count: D); (bias + D).update(repeating: 0, count: D); (bias + 2 * D).update(from: w.vBias, count: D)
        ParallelGEMM.sgemm(transB: true, m: M, n: 3 * D, k: D, a: input, b: w.qkv, c: cache.qkv, bias: bias)
        AttentionCore.forward(out: cache.attended, probs: cache.probs, q: cache.qkv, k: cache.qkv + D,
                              v: cache.qkv + 2 * D, shape: coreShape(B: B, N: N, D: D, H: H))
        Linear.forward(out: out, input: cache.attended, weight: w.projWeight, bias: w.projBias,
                       rows: M, inFeatures: D, outFeatures: D)
    }

    /// Adds gradients into dInput [B, N, D] (writes it with `overwriteInput`) and `grads`; dOut: [B, N, D].
    public static func backward(overwriteInput: Bool = false, dInput: UnsafeMutablePointer<Float>, grads: Weights, dOut: UnsafePointer<Float>,
                                input: UnsafePointer<Float>, weights w: Weights, cache: Cache, scratch: Scratch,
                                batch B: Int, tokens N: Int, width D: Int, heads H: Int) {
        let M = B * N
        Linear.backward(dInput: scratch.dAttended, dWeight: grads.projWeight, dBias: grads.projBias, dOut: dOut,
                        input: cache.attended, weight: w.projWeight, rows: M, inFeatures: D, outFeatures: D,
                        overwriteInput: true)
        AttentionCore.backward(dq: scratch.dQkv, dk: scratch.dQkv + D, dv: scratch.dQkv + 2 * D,
                               dOut: scratch.dAttended, q: cache.qkv, k: cache.qkv + D, v: cache.qkv + 2 * D,
                               probs: cache.probs, scratch: scratch.dScores, shape: coreShape(B: B, N: N, D: D, H: H),
                               overwrite: true)
        Linear.addColumnSums(into: grads.qBias, scratch.dQkv, rows: M, columns: D, stride: 3 * D)
        Linear.addColumnSums(into: grads.vBias, scratch.dQkv + 2 * D, rows: M, columns: D, stride: 3 * D)
        Linear.backward(dInput: dInput, dWeight: grads.qkv, dBias: nil, dOut: scratch.dQkv, input: input,
                        weight: w.qkv, rows: M, inFeatures: D, outFeatures: 3 * D, overwriteInput: overwriteInput)
    }
}
