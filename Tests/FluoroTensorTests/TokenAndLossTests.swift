import Foundation
import FluoroSupport
import Testing
@testable import FluoroTensor

/// Tokens (patchify, gather, scatter), positions, the target and the two losses.
@Suite struct TokenAndLossTests {
    @Test func patchifyOrdersTokensAndPixels() {
        let (B, T, S, tt, p) = (2, 4, 6, 2, 3)
        let clip = FloatBuffer((0..<(B * T * S * S)).map { Float($0) })
        let g = S / p, N = (T / tt) * g * g, V = tt * p * p
        let out = FloatBuffer(count: B * N * V)
        Tokens.patchify(out: out.pointer, clip: clip.pointer, batch: B, frames: T, size: S, tubelet: tt, patch: p)
        var mismatches = 0
        for b in 0..<B { for t in 0..<(T / tt) { for hy in 0..<g { for wx in 0..<g {
            for dt in 0..<tt { for dy in 0..<p { for dx in 0..<p {
                let n = (t * g + hy) * g + wx, j = (dt * p + dy) * p + dx
                let pixel = ((b * T + t * tt + dt) * S + hy * p + dy) * S + wx * p + dx
                if out[(b * N + n) * V + j] != Float(pixel) { mismatches += 1 }
            } } }
        } } } }
        #expect(mismatches == 0)
    }

    @Test func patchEmbeddingGradients() {
        // Conv3d with kernel = stride = (tt, p, p) as patchify + one matmul; weight [D, tt*p*p].
        let (B, T, S, tt, p, D) = (1, 2, 4, 2, 2, 3)
        let N = (T / tt) * (S / p) * (S / p), V = tt * p * p
        var rng = SplitMix64(seed: 11)
        let clip = GradientCheck.random(B * T * S * S, &rng), w = GradientCheck.random(D * V, &rng)
        let bias = GradientCheck.random(D, &rng), r = GradientCheck.random(B * N * D, &rng)
        let patches = FloatBuffer(count: B * N * V), out = FloatBuffer(count: B * N * D)
        func loss() -> Double {
            Tokens.patchify(out: patches.pointer, clip: clip.pointer, batch: B, frames: T, size: S, tubelet: tt, patch: p)
            Linear.forward(out: out.pointer, input: patches.pointer, weight: w.pointer, bias: bias.pointer,
                           rows: B * N, inFeatures: V, outFeatures: D)
            return GradientCheck.weightedSum(out, r)
        }
        _ = loss()
        let dw = FloatBuffer(count: w.count), db = FloatBuffer(count: D)
        Linear.backward(dInput: nil, dWeight: dw.pointer, dBias: db.pointer, dOut: r.pointer, input: patches.pointer,
                        weight: w.pointer, rows: B * N, inFeatures: V, outFeatures: D)
        GradientCheck.expectGradients("patchEmbed", inputs: [("weight", w), ("bias", bias)],
                                      analytic: ["weight": dw, "bias": db], loss: loss)
    }

    @Test func gatherAndScatterGradients() {
        let (B, N, K, C) = (2, 5, 3, 4)
        let visible: [Int32] = [0, 2, 4, 1, 2, 3], hidden: [Int32] = [1, 3, 0, 4]
        var rng = SplitMix64(seed: 12)
        let x = GradientCheck.random(B * N * C, &rng), rg = GradientCheck.random(B * K * C, &rng)
        let gathered = FloatBuffer(count: B * K * C)
        func gatherLoss() -> Double {
            Tokens.gather(out: gathered.pointer, x.pointer, index: visible, batch: B, tokens: N, selected: K, channels: C)
            return GradientCheck.weightedSum(gathered, rg)
        }
        let dx = FloatBuffer(count: x.count)
        Tokens.gatherBackward(dX: dx.pointer, dOut: rg.pointer, index: visible, batch: B, tokens: N, selected: K, channels: C)
        GradientCheck.expectGradients("gather", inputs: [("x", x)], analytic: ["x": dx], loss: gatherLoss)

        let z = GradientCheck.random(B * K * C, &rng), fill = GradientCheck.random(C, &rng)
        let rs = GradientCheck.random(B * N * C, &rng), full = FloatBuffer(count: B * N * C)
        func scatterLoss() -> Double {
            Tokens.scatter(full: full.pointer, z.pointer, index: visible, fill: fill.pointer, batch: B, tokens: N, selected: K, channels: C)
            return GradientCheck.weightedSum(full, rs)
        }
        _ = scatterLoss()
        #expect(full[(1 * N + 0) * C] == fill[0], "hidden row 0 of clip 1 holds the mask token")
        #expect(full[(1 * N + 1) * C + 2] == z[(1 * K + 0) * C + 2], "visible token 1 of clip 1 lands at row 1")
        let dz = FloatBuffer(count: z.count), dfill = FloatBuffer(count: C)
        Tokens.scatterBackward(dX: dz.pointer, dFill: dfill.pointer, dFull: rs.pointer, index: visible, complement: hidden,
                               batch: B, tokens: N, selected: K, channels: C)
        GradientCheck.expectGradients("scatter", inputs: [("z", z), ("fill", fill)], analytic: ["z": dz, "fill": dfill],
                                      loss: scatterLoss)
    }

    @Test func normalisedTargetUsesUnbiasedVariance() {
        let (M, V) = (3, 8)
        var rng = SplitMix64(seed: 13)
        let x = GradientCheck.random(M * V, &rng, scale: 5), out = FloatBuffer(count: M * V)
        Losses.normalisedTarget(out: out.pointer, patches: x.pointer, rows: M, values: V)
        var worst: Double = 0
        for r in 0..<M {
            let row = (0..<V).map { Double(x[r * V + $0]) }
            let mean = row.reduce(0, +) / Double(V)
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(V - 1)
            for j in 0..<V { worst = max(worst, abs((row[j] - mean) / (variance + 1e-6).squareRoot() - Double(out[r * V + j]))) }
        }
        #expect(worst < 1e-5)
    }

    @Test func positionTableMatchesFormula() {
        let (n, d) = (7, 6)
        let table = PositionTable.sinCos(positions: n, width: d)
        #expect(table[0] == 0 && table[1] == 1, "position 0 is sin 0 = 0, cos 0 = 1")
        // Position 3, j = 4 (even, sin) and j = 5 (odd, cos) share the angle 3 / 10000^(4/6).
        let angle = 3 / pow(10000.0, 4.0 / 6.0)
        #expect(table[3 * d + 4] == Float(sin(angle)))
        #expect(table[3 * d + 5] == Float(cos(angle)))
    }

    @Test func selectedMSEGradientAndValue() {
        let (M, V) = (5, 4)
        let rows: [Int32] = [1, 3, 4]
        var rng = SplitMix64(seed: 14)
        let pred = GradientCheck.random(M * V, &rng), target = GradientCheck.random(M * V, &rng)
        func loss() -> Double { Double(Losses.selectedMSE(pred: pred.pointer, target: target.pointer, rows: rows, count: 3, values: V)) }
        var want: Double = 0
        for r in rows { for j in 0..<V { let d = Double(pred[Int(r) * V + j] - target[Int(r) * V + j]); want += d * d } }
        #expect(abs(loss() - want / 12) < 1e-6)
        let dp = FloatBuffer(count: M * V)
        Losses.selectedMSEBackward(dPred: dp.pointer, pred: pred.pointer, target: target.pointer, rows: rows, count: 3,
                                   values: V, scale: 1)
        #expect(dp[0] == 0, "rows not selected get no gradient")
        GradientCheck.expectGradients("mse", inputs: [("pred", pred)], analytic: ["pred": dp], h: 1e-3, loss: loss)
    }

    @Test func bceWithLogitsGradientAndValue() {
        let n = 12
        var rng = SplitMix64(seed: 15)
        let x = GradientCheck.random(n, &rng, scale: 4)
        let y = FloatBuffer((0..<n).map { _ in Float(rng.nextUnit()) })
        func loss() -> Double { Double(Losses.bceWithLogits(logits: x.pointer, labels: y.pointer, count: n)) }
        var want: Double = 0
        for i in 0..<n {
            let s = 1 / (1 + exp(-Double(x[i])))
            want -= Double(y[i]) * log(s) + (1 - Double(y[i])) * log(1 - s)
        }
        #expect(abs(loss() - want / Double(n)) < 1e-6)
        let dx = FloatBuffer(count: n)
        Losses.bceWithLogitsBackward(dLogits: dx.pointer, logits: x.pointer, labels: y.pointer, count: n, scale: 1)
        GradientCheck.expectGradients("bce", inputs: [("logits", x)], analytic: ["logits": dx], h: 1e-3, loss: loss)
        // The fused form writes the same gradient while computing the loss.
        let fused = FloatBuffer(count: n)
        let value = Losses.bceWithLogits(logits: x.pointer, labels: y.pointer, count: n, gradient: fused.pointer, scale: 1)
        #expect(Double(value) == loss())
        #expect(zip(fused.array, dx.array).allSatisfy { abs($0 - $1) <= 1e-7 })
    }
    @Test func qualityFocalLossValueAndGradient() {
        let n = 5000  // more than one block of the parallel sum
        var rng = SplitMix64(seed: 16)
        let x = GradientCheck.random(n, &rng, scale: 4)
        let y = FloatBuffer((0..<n).map { i in i % 7 == 0 ? Float(rng.nextUnit()) : 0 })
        func loss() -> Double { QualityFocalLoss.forward(logits: x.pointer, targets: y.pointer, count: n, normaliser: 3) }
        var want = 0.0
        for i in 0..<n {
            let s = 1 / (1 + exp(-Double(x[i]))), t = Double(y[i])
            want -= (s - t) * (s - t) * (t * log(s) + (1 - t) * log(1 - s))
        }
        #expect(abs(loss() - want / 3) < 1e-9 * max(1, abs(want)))
        let dx = FloatBuffer(count: n)
        _ = QualityFocalLoss.forward(logits: x.pointer, targets: y.pointer, count: n, normaliser: 3, gradient: dx.pointer)
        GradientCheck.expectGradients("qfl", inputs: [("logits", x)], analytic: ["logits": dx], h: 1e-3, loss: loss)
        // A confident right answer costs nothing and pulls nothing; a confident miss at a target pulls hard.
        let (right, slopeRight) = QualityFocalLoss.term(logit: -12, target: 0)
        let (_, slopeMiss) = QualityFocalLoss.term(logit: -6, target: 1)
        #expect(right < 1e-9 && abs(slopeRight) < 1e-9 && slopeMiss < -0.9)
    }
}
