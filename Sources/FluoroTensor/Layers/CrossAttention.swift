/// Multi-head cross-attention: queries from one sequence x [B, Nq, D], keys and values from
/// another y [B, Nk, D]. q = x Wqᵀ + q_bias; [k, v] = y Wkvᵀ + [0, v_bias]; out = proj(softmax(q kᵀ/√dh) v).
public enum CrossAttention {
    /// Pointers to one layer's parameters (or gradients).
    public struct Weights {
        /// q: [D, D]; kv: [2D, D]; qBias, vBias: [D]; projWeight: [D, D]; projBias: [D].
        public var q, kv, qBias, vBias, projWeight, projBias: UnsafeMutablePointer<Float>
        public init(q: UnsafeMutablePointer<Float>, kv: UnsafeMutablePointer<Float>, qBias: UnsafeMutablePointer<Float>,
                    vBias: UnsafeMutablePointer<Float>, projWeight: UnsafeMutablePointer<Float>, projBias: UnsafeMutablePointer<Float>) {
            self.q = q; self.kv = kv; self.qBias = qBias; self.vBias = vBias; self.projWeight = projWeight; self.projBias = projBias
        }
    }

    /// Activations kept for backward: q [B, Nq, D], kv [B, Nk, 2D], probs [B, H, Nq, Nk], attended [B, Nq, D].
    public struct Cache {
        /// kvBias: [2D], the kv product's bias [0, v_bias] (written by forward).
        public var q, kv, probs, attended, kvBias: UnsafeMutablePointer<Float>
        public init(q: UnsafeMutablePointer<Float>, kv: UnsafeMutablePointer<Float>, probs: UnsafeMutablePointer<Float>,
                    attended: UnsafeMutablePointer<Float>, kvBias: UnsafeMutablePointer<Float>) {
            self.q = q; self.kv = kv; self.probs = probs; self.attended = attended; self.kvBias = kvBias
        }
    }

    /// Scratch for backward: dQ [B, Nq, D], dKv [B, Nk, 2D], dAttended [B, Nq, D], dScores [B, H, Nq, Nk].
    public struct Scratch {
        public var dQ, dKv, dAttended, dScores: UnsafeMutablePointer<Float>
        public init(dQ: UnsafeMutablePointer<Float>, dKv: UnsafeMutablePointer<Float>, dAttended: UnsafeMutablePointer<Float>,
                    dScores: UnsafeMutablePointer<Float>) {
            self.dQ = dQ; self.dKv = dKv; self.dAttended = dAttended; self.dScores = dScores
        }
    }

    static func coreShape(B: Int, Nq: Int, Nk: Int, D: Int, H: Int) -> AttentionCore.Shape {
        AttentionCore.Shape(batch: B, heads: H, queries: Nq, keys: Nk, headWidth: D / H,
                            qStride: D, kStride: 2 * D, vStride: 2 * D, outStride: D)
    }

    /// out: [B, Nq, D] from queries x: [B, Nq, D] and context y: [B, Nk, D].
    public static func forward(out: UnsafeMutablePointer<Float>, cache: Cache, queries x: UnsafePointer<Float>,
                               context y: UnsafePointer<Float>, weights w: Weights,
                               batch B: Int, queryTokens Nq: Int, contextTokens Nk: Int, width D: Int, heads H: Int) {
        Linear.forward(out: cache.q, input: x, weight: w.q, bias: w.qBias, rows: B * Nq, inFeatures: D, outFeatures: D)
        let bias = cache.kvBias  // [0, v_bias]
        bias.update(repeating: 0, count: D); (bias + D).update(from: w.vBias, count: D)
        ParallelGEMM.sgemm(transB: true, m: B * Nk, n: 2 * D, k: D, a: y, b: w.kv, c: cache.kv, bias: bias)
        AttentionCore.forward(out: cache.attended, probs: cache.probs, q: cache.q, k: cache.kv, v: cache.kv + D,
                              shape: coreShape(B: B, Nq: Nq, Nk: Nk, D: D, H: H))
        Linear.forward(out: out, input: cache.attended, weight: w.projWeight, bias: w.projBias,
                       rows: B * Nq, inFeatures: D, outFeatures: D)
    }

    /// Adds gradients into dQueries [B, Nq, D], dContext [B, Nk, D] and `grads`; dOut: [B, Nq, D].
    public static func backward(dQueries: UnsafeMutablePointer<Float>, dContext: UnsafeMutablePointer<Float>,
                                grads: Weights, dOut: UnsafePointer<Float>, queries x: UnsafePointer<Float>,
                                context y: UnsafePointer<Float>, weights w: Weights, cache: Cache, scratch: Scratch,
                                batch B: Int, queryTokens Nq: Int, contextTokens Nk: Int, width D: Int, heads H: Int) {
        // Each scratch is written whole (dQ by every head's block, dKv's k and v halves likewise), not added to.
        Linear.backward(dInput: scratch.dAttended, dWeight: grads.projWeight, dBias: grads.projBias, dOut: dOut,
                        input: cache.attended, weight: w.projWeight, rows: B * Nq, inFeatures: D, outFeatures: D,
                        overwriteInput: true)
        AttentionCore.backward(dq: scratch.dQ, dk: scratch.dKv, dv: scratch.dKv + D, dOut: scratch.dAttended,
                               q: cache.q, k: cache.kv, v: cache.kv + D, probs: cache.probs, scratch: scratch.dScores,
                               shape: coreShape(B: B, Nq: Nq, Nk: Nk, D: D, H: H), overwrite: true)
        Linear.backward(dInput: dQueries, dWeight: grads.q, dBias: grads.qBias, dOut: scratch.dQ, input: x,
                        weight: w.q, rows: B * Nq, inFeatures: D, outFeatures: D)
        Linear.addColumnSums(into: grads.vBias, scratch.dKv + D, rows: B * Nk, columns: D, stride: 2 * D)
        Linear.backward(dInput: dContext, dWeight: grads.kv, dBias: nil, dOut: scratch.dKv, input: y,
                        weight: w.kv, rows: B * Nk, inFeatures: D, outFeatures: 2 * D)
    }
}
