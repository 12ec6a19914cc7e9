import FluoroSupport
import Testing
@testable import FluoroTensor

/// Finite-difference checks of every layer's backward against its forward, on small random shapes.
@Suite struct LayerGradientTests {
    @Test(arguments: [true, false])
    func linear(withBias: Bool) {
        let (M, K, N) = (5, 4, 3)
        var rng = SplitMix64(seed: 1)
        let x = GradientCheck.random(M * K, &rng), w = GradientCheck.random(N * K, &rng)
        let b = GradientCheck.random(N, &rng), r = GradientCheck.random(M * N, &rng), out = FloatBuffer(count: M * N)
        func loss() -> Double {
            Linear.forward(out: out.pointer, input: x.pointer, weight: w.pointer, bias: withBias ? b.pointer : nil,
                           rows: M, inFeatures: K, outFeatures: N)
            return GradientCheck.weightedSum(out, r)
        }
        let dx = FloatBuffer(count: M * K), dw = FloatBuffer(count: N * K), db = FloatBuffer(count: N)
        _ = loss()
        Linear.backward(dInput: dx.pointer, dWeight: dw.pointer, dBias: withBias ? db.pointer : nil, dOut: r.pointer,
                        input: x.pointer, weight: w.pointer, rows: M, inFeatures: K, outFeatures: N)
        var inputs = [("input", x), ("weight", w)]
        if withBias { inputs.append(("bias", b)) }
        GradientCheck.expectGradients("linear", inputs: inputs, analytic: ["input": dx, "weight": dw, "bias": db], loss: loss)
    }

    @Test func layerNorm() {
        let (M, C) = (4, 7)
        var rng = SplitMix64(seed: 2)
        let x = GradientCheck.random(M * C, &rng, scale: 2), w = GradientCheck.random(C, &rng)
        let b = GradientCheck.random(C, &rng), r = GradientCheck.random(M * C, &rng)
        let out = FloatBuffer(count: M * C), mean = FloatBuffer(count: M), rstd = FloatBuffer(count: M)
        func loss() -> Double {
            LayerNorm.forward(out: out.pointer, mean: mean.pointer, rstd: rstd.pointer, input: x.pointer,
                              weight: w.pointer, bias: b.pointer, rows: M, channels: C)
            return GradientCheck.weightedSum(out, r)
        }
        _ = loss()
        // Output rows must be normalised before the affine map: check mean 0 / var 1 with unit weight.
        let dx = FloatBuffer(count: M * C), dw = FloatBuffer(count: C), db = FloatBuffer(count: C)
        LayerNorm.backward(dInput: dx.pointer, dWeight: dw.pointer, dBias: db.pointer, dOut: r.pointer, input: x.pointer,
                           weight: w.pointer, mean: mean.pointer, rstd: rstd.pointer, rows: M, channels: C)
        GradientCheck.expectGradients("layerNorm", inputs: [("input", x), ("weight", w), ("bias", b)],
                                      analytic: ["input": dx, "weight": dw, "bias": db], loss: loss)
    }

    @Test func gelu() {
        let n = 40
        var rng = SplitMix64(seed: 3)
        let x = GradientCheck.random(n, &rng, scale: 3), r = GradientCheck.random(n, &rng), out = FloatBuffer(count: n)
        func loss() -> Double {
            GELU.forward(out: out.pointer, input: x.pointer, count: n)
            return GradientCheck.weightedSum(out, r)
        }
        _ = loss()
        // Exact GELU, not the tanh approximation: GELU(1) = 0.5 (1 + erf(1/√2)) = 0.8413447.
        let one = FloatBuffer([1]), g1 = FloatBuffer(count: 1)
        GELU.forward(out: g1.pointer, input: one.pointer, count: 1)
        #expect(abs(g1[0] - 0.8413447) < 1e-6)
        let dx = FloatBuffer(count: n)
        GELU.backward(dInput: dx.pointer, dOut: r.pointer, input: x.pointer, count: n)
        GradientCheck.expectGradients("gelu", inputs: [("input", x)], analytic: ["input": dx], loss: loss)
        // The fused training form keeps GELU'(x) (in place of x) and gives the same values and gradients.
        _ = loss()  // out for the unperturbed x
        let fusedOut = FloatBuffer(count: n), slope = FloatBuffer(x.array), dFused = FloatBuffer(count: n)
        GELU.forward(out: fusedOut.pointer, derivative: slope.pointer, input: slope.pointer, count: n)
        GELU.backward(dInput: dFused.pointer, dOut: r.pointer, derivative: slope.pointer, count: n)
        #expect(fusedOut.array == out.array)
        #expect(zip(dFused.array, dx.array).allSatisfy { abs($0 - $1) <= 1e-6 * max(1, abs($1)) })
    }

    @Test func selfAttention() {
        let (B, N, D, H) = (2, 5, 8, 2)
        var rng = SplitMix64(seed: 4)
        let x = GradientCheck.random(B * N * D, &rng), qkv = GradientCheck.random(3 * D * D, &rng, scale: 0.7)
        let qb = GradientCheck.random(D, &rng), vb = GradientCheck.random(D, &rng)
        let pw = GradientCheck.random(D * D, &rng), pb = GradientCheck.random(D, &rng)
        let r = GradientCheck.random(B * N * D, &rng), out = FloatBuffer(count: B * N * D)
        let cQkv = FloatBuffer(count: B * N * 3 * D), probs = FloatBuffer(count: B * H * N * N), att = FloatBuffer(count: B * N * D)
        let qkvBias = FloatBuffer(count: 3 * D)
        let cache = SelfAttention.Cache(qkv: cQkv.pointer, probs: probs.pointer, attended: att.pointer, qkvBias: qkvBias.pointer)
        let weights = SelfAttention.Weights(qkv: qkv.pointer, qBias: qb.pointer, vBias: vb.pointer,
                                            projWeight: pw.pointer, projBias: pb.pointer)
        func loss() -> Double {
            SelfAttention.forward(out: out.pointer, cache: cache, input: x.pointer, weights: weights,
                                  batch: B, tokens: N, width: D, heads: H)
            return GradientCheck.weightedSum(out, r)
        }
        _ = loss()
        let dx = FloatBuffer(count: x.count), dqkv = FloatBuffer(count: qkv.count), dqb = FloatBuffer(count: D)
        let dvb = FloatBuffer(count: D), dpw = FloatBuffer(count: D * D), dpb = FloatBuffer(count: D)
        let s1 = FloatBuffer(count: cQkv.count), s2 = FloatBuffer(count: att.count), s3 = FloatBuffer(count: probs.count)
        SelfAttention.backward(dInput: dx.pointer,
                               grads: .init(qkv: dqkv.pointer, qBias: dqb.pointer, vBias: dvb.pointer, projWeight: dpw.pointer, projBias: dpb.pointer),
                               dOut: r.pointer, input: x.pointer, weights: weights, cache: cache,
                               scratch: .init(dQkv: s1.pointer, dAttended: s2.pointer, dScores: s3.pointer),
                               batch: B, tokens: N, width: D, heads: H)
        GradientCheck.expectGradients("selfAttention",
                                      inputs: [("input", x), ("qkv", qkv), ("qBias", qb), ("vBias", vb), ("projWeight", pw), ("projBias", pb)],
                                      analytic: ["input": dx, "qkv": dqkv, "qBias": dqb, "vBias": dvb, "projWeight": dpw, "projBias": dpb],
                                      loss: loss)
    }

    @Test func crossAttention() {
        let (B, Nq, Nk, D, H) = (2, 3, 5, 8, 2)
        var rng = SplitMix64(seed: 5)
        let x = GradientCheck.random(B * Nq * D, &rng), y = GradientCheck.random(B * Nk * D, &rng)
        let wq = GradientCheck.random(D * D, &rng, scale: 0.7), wkv = GradientCheck.random(2 * D * D, &rng, scale: 0.7)
        let qb = GradientCheck.random(D, &rng), vb = GradientCheck.random(D, &rng)
        let pw = GradientCheck.random(D * D, &rng), pb = GradientCheck.random(D, &rng)
        let r = GradientCheck.random(B * Nq * D, &rng), out = FloatBuffer(count: B * Nq * D)
        let cq = FloatBuffer(count: B * Nq * D), ckv = FloatBuffer(count: B * Nk * 2 * D)
        let probs = FloatBuffer(count: B * H * Nq * Nk), att = FloatBuffer(count: B * Nq * D)
        let kvBias = FloatBuffer(count: 2 * D)
        let cache = CrossAttention.Cache(q: cq.pointer, kv: ckv.pointer, probs: probs.pointer, attended: att.pointer, kvBias: kvBias.pointer)
        let weights = CrossAttention.Weights(q: wq.pointer, kv: wkv.pointer, qBias: qb.pointer, vBias: vb.pointer,
                                             projWeight: pw.pointer, projBias: pb.pointer)
        func loss() -> Double {
            CrossAttention.forward(out: out.pointer, cache: cache, queries: x.pointer, context: y.pointer, weights: weights,
                                   batch: B, queryTokens: Nq, contextTokens: Nk, width: D, heads: H)
            return GradientCheck.weightedSum(out, r)
        }
        _ = loss()
        let dx = FloatBuffer(count: x.count), dy = FloatBuffer(count: y.count)
        let dwq = FloatBuffer(count: wq.count), dwkv = FloatBuffer(count: wkv.count), dqb = FloatBuffer(count: D)
        let dvb = FloatBuffer(count: D), dpw = FloatBuffer(count: D * D), dpb = FloatBuffer(count: D)
        let s1 = FloatBuffer(count: cq.count), s2 = FloatBuffer(count: ckv.count), s3 = FloatBuffer(count: att.count)
        let s4 = FloatBuffer(count: probs.count)
        CrossAttention.backward(dQueries: dx.pointer, dContext: dy.pointer,
                                grads: .init(q: dwq.pointer, kv: dwkv.pointer, qBias: dqb.pointer, vBias: dvb.pointer,
                                             projWeight: dpw.pointer, projBias: dpb.pointer),
                                dOut: r.pointer, queries: x.pointer, context: y.pointer, weights: weights, cache: cache,
                                scratch: .init(dQ: s1.pointer, dKv: s2.pointer, dAttended: s3.pointer, dScores: s4.pointer),
                                batch: B, queryTokens: Nq, contextTokens: Nk, width: D, heads: H)
        GradientCheck.expectGradients("crossAttention",
                                      inputs: [("queries", x), ("context", y), ("q", wq), ("kv", wkv), ("qBias", qb),
                                               ("vBias", vb), ("projWeight", pw), ("projBias", pb)],
                                      analytic: ["queries": dx, "context": dy, "q": dwq, "kv": dwkv, "qBias": dqb,
                                                 "vBias": dvb, "projWeight": dpw, "projBias": dpb],
                                      loss: loss)
    }

    @Test func checkerCatchesAWrongGradient() {
        var rng = SplitMix64(seed: 7)
        let x = GradientCheck.random(6, &rng), r = GradientCheck.random(6, &rng), out = FloatBuffer(count: 6)
        func loss() -> Double {
            GELU.forward(out: out.pointer, input: x.pointer, count: 6)
            return GradientCheck.weightedSum(out, r)
        }
        let wrong = FloatBuffer(count: 6)
        GELU.backward(dInput: wrong.pointer, dOut: r.pointer, input: x.pointer, count: 6)
        wrong[3] *= 1.1
        let errors = GradientCheck.relativeErrors(inputs: [("x", x)], analytic: ["x": wrong], loss: loss)
        #expect((errors["x"] ?? 0) > 1e-2)
    }

    @Test func residualAdd() {
        var rng = SplitMix64(seed: 6)
        let a = GradientCheck.random(10, &rng), b = GradientCheck.random(10, &rng), r = GradientCheck.random(10, &rng)
        let out = FloatBuffer(count: 10)
        func loss() -> Double {
            Elementwise.sum(out: out.pointer, a.pointer, b.pointer, count: 10)
            return GradientCheck.weightedSum(out, r)
        }
        // Backward of a residual is dOut flowing into both branches: add it into each.
        let da = FloatBuffer(count: 10), db = FloatBuffer(count: 10)
        Elementwise.add(into: da.pointer, r.pointer, count: 10)
        Elementwise.add(into: db.pointer, r.pointer, count: 10)
        GradientCheck.expectGradients("residual", inputs: [("a", a), ("b", b)], analytic: ["a": da, "b": db], loss: loss)
    }
}

/// The whole pre-norm block, every weight.
@Suite struct TransformerBlockGradientTests {
    @Test func everyGradient() {
        let s = TransformerBlock.Shape(batch: 2, tokens: 3, width: 4, heads: 2, mlpRatio: 2)
        let (M, D, Hd) = (6, 4, 8)
        var rng = SplitMix64(seed: 21)
        let names = ["norm1.weight": D, "norm1.bias": D, "qkv": 3 * D * D, "q_bias": D, "v_bias": D, "proj.weight": D * D,
                     "proj.bias": D, "norm2.weight": D, "norm2.bias": D, "fc1.weight": Hd * D, "fc1.bias": Hd,
                     "fc2.weight": D * Hd, "fc2.bias": D]
        var values: [String: FloatBuffer] = [:], grads: [String: FloatBuffer] = [:]
        for (name, n) in names.sorted(by: { $0.key < $1.key }) {
            values[name] = GradientCheck.random(n, &rng, scale: 0.8)
            grads[name] = FloatBuffer(count: n)
        }
        func weights(_ t: [String: FloatBuffer]) -> TransformerBlock.Weights {
            .init(norm1Weight: t["norm1.weight"]!.pointer, norm1Bias: t["norm1.bias"]!.pointer,
                  attention: .init(qkv: t["qkv"]!.pointer, qBias: t["q_bias"]!.pointer, vBias: t["v_bias"]!.pointer,
                                   projWeight: t["proj.weight"]!.pointer, projBias: t["proj.bias"]!.pointer),
                  norm2Weight: t["norm2.weight"]!.pointer, norm2Bias: t["norm2.bias"]!.pointer,
                  fc1Weight: t["fc1.weight"]!.pointer, fc1Bias: t["fc1.bias"]!.pointer,
                  fc2Weight: t["fc2.weight"]!.pointer, fc2Bias: t["fc2.bias"]!.pointer)
        }
        let x = GradientCheck.random(M * D, &rng), r = GradientCheck.random(M * D, &rng), out = FloatBuffer(count: M * D)
        let acts = TransformerBlock.Activations(s), scratch = TransformerBlock.Scratch(s)
        func loss() -> Double {
            TransformerBlock.forward(out: out.pointer, acts: acts, input: x.pointer, weights: weights(values), shape: s)
            return GradientCheck.weightedSum(out, r)
        }
        _ = loss()
        let dStream = FloatBuffer(r.array)
        TransformerBlock.backward(dStream: dStream.pointer, grads: weights(grads), input: x.pointer, weights: weights(values),
                                  acts: acts, scratch: scratch, shape: s)
        grads["input"] = dStream
        let inputs = [("input", x)] + values.sorted(by: { $0.key < $1.key }).map { ($0.key, $0.value) }
        GradientCheck.expectGradients("transformerBlock", inputs: inputs, analytic: grads, loss: loss)
    }
}
