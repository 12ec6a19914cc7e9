import FluoroSupport
import FluoroTensor
import Testing

/// Finite-difference checks of the tracker's layers: the cross-attention decoder block (with and
/// without context) and the soft Dice loss.
@Suite struct TrackerLayerGradientTests {
    struct BlockParameters {
        let buffers: [(String, FloatBuffer)]
        let grads: [String: FloatBuffer]
        func weights(_ g: Bool) -> CrossAttentionBlock.Weights {
            func p(_ n: String) -> UnsafeMutablePointer<Float> { g ? grads[n]!.pointer : buffers.first { $0.0 == n }!.1.pointer }
            return .init(normQWeight: p("normQW"), normQBias: p("normQB"), normKvWeight: p("normKvW"), normKvBias: p("normKvB"),
                         attention: .init(q: p("q"), kv: p("kv"), qBias: p("qBias"), vBias: p("vBias"), projWeight: p("proj"), projBias: p("projB")),
                         norm2Weight: p("norm2W"), norm2Bias: p("norm2B"), fc1Weight: p("fc1"), fc1Bias: p("fc1B"),
                         fc2Weight: p("fc2"), fc2Bias: p("fc2B"))
        }
        init(D: Int, _ rng: inout SplitMix64) {
            let sizes: [(String, Int)] = [("normQW", D), ("normQB", D), ("normKvW", D), ("normKvB", D), ("q", D * D), ("kv", 2 * D * D),
                                          ("qBias", D), ("vBias", D), ("proj", D * D), ("projB", D), ("norm2W", D), ("norm2B", D),
                                          ("fc1", 4 * D * D), ("fc1B", 4 * D), ("fc2", 4 * D * D), ("fc2B", D)]
            var b: [(String, FloatBuffer)] = []
            for (name, n) in sizes { b.append((name, GradientCheck.random(n, &rng, scale: 0.6))) }
            buffers = b
            grads = Dictionary(uniqueKeysWithValues: sizes.map { ($0.0, FloatBuffer(count: $0.1)) })
        }
    }

    func checkBlock(context Nk: Int) {
        let (B, Nq, D, H) = (2, 3, 8, 2)
        var rng = SplitMix64(seed: 11)
        let x = GradientCheck.random(B * Nq * D, &rng), c = GradientCheck.random(B * max(Nk, 1) * D, &rng)
        let params = BlockParameters(D: D, &rng)
        let shape = CrossAttentionBlock.Shape(batch: B, queries: Nq, context: Nk, width: D, heads: H)
        let acts = CrossAttentionBlock.Activations(shape), scratch = CrossAttentionBlock.Scratch(shape)
        let r = GradientCheck.random(B * Nq * D, &rng), out = FloatBuffer(count: B * Nq * D)
        func loss() -> Double {
            CrossAttentionBlock.forward(out: out.pointer, acts: acts, queries: x.pointer, context: c.pointer,
                                        weights: params.weights(false), shape: shape)
            return GradientCheck.weightedSum(out, r)
        }
        _ = loss()
        let dStream = FloatBuffer(r.array), dContext = FloatBuffer(count: c.count)
        CrossAttentionBlock.backward(dStream: dStream.pointer, dContext: dContext.pointer, grads: params.weights(true),
                                     queries: x.pointer, context: c.pointer, weights: params.weights(false),
                                     acts: acts, scratch: scratch, shape: shape)
        var inputs = [("queries", x)] + params.buffers
        var analytic = params.grads
        analytic["queries"] = dStream
        if Nk > 0 { inputs.append(("context", c)); analytic["context"] = dContext } else {
            // Without context the attention's parameters and LN_q/LN_kv take no part.
            let unused: Set = ["normQW", "normQB", "normKvW", "normKvB", "q", "kv", "qBias", "vBias", "proj", "projB"]
            inputs.removeAll { unused.contains($0.0) }
            for name in unused { #expect(params.grads[name]!.array.allSatisfy { $0 == 0 }, "\(name) got a gradient without context") }
        }
        GradientCheck.expectGradients("crossAttentionBlock(context \(Nk))", inputs: inputs, analytic: analytic, loss: loss)
    }

    @Test func crossAttentionBlock() { checkBlock(context: 5) }

    @Test func crossAttentionBlockWithoutContext() { checkBlock(context: 0) }

    @Test func softDice() {
        let (B, P) = (3, 10)
        var rng = SplitMix64(seed: 3)
        let logits = GradientCheck.random(B * P, &rng, scale: 3)
        let targets = FloatBuffer((0..<(B * P)).map { _ in Float(rng.nextUnit()) })
        let weights = [0.5, 0, 1.5]
        func loss() -> Double {
            zip(SoftDice.forward(logits: logits.pointer, targets: targets.pointer, batch: B, pixels: P), weights).map { $0 * $1 }.reduce(0, +)
        }
        let d = FloatBuffer(count: B * P)
        SoftDice.backward(dLogits: d.pointer, logits: logits.pointer, targets: targets.pointer, weights: weights, batch: B, pixels: P)
        GradientCheck.expectGradients("softDice", inputs: [("logits", logits)], analytic: ["logits": d], loss: loss)
        // The value itself: a perfect prediction of a binary target is near 0, the inverse near 1.
        let sure = FloatBuffer([20, -20, 20, -20]), target = FloatBuffer([1, 0, 1, 0])
        #expect(SoftDice.forward(logits: sure.pointer, targets: target.pointer, batch: 1, pixels: 4)[0] < 1e-6)
        let wrong = FloatBuffer([-20, 20, -20, 20])
        #expect(abs(SoftDice.forward(logits: wrong.pointer, targets: target.pointer, batch: 1, pixels: 4)[0] - (1 - 1.0 / 5)) < 1e-6)
    }
}
