import FluoroSupport
import FluoroTensor
import Foundation
import Testing
@testable import FluoroTracking

/// Finite differences through the whole tracker on a tiny config: the correlation tokens'
/// embedding gathers (appearance and trajectory, a missing estimate included), the conv/upsample
/// heads and the features the appearance tokens read, against the analytic gradients.
@Suite(.serialized) struct HiFTGradientTests {
    static func tinyBatch(_ c: HiFTConfig, batch B: Int, seed: UInt64) -> TrackingBatch {
        var rng = SplitMix64(seed: seed)
        let windows = (0..<(B * c.window * c.crop * c.crop)).map { _ in Float(ParameterArena.standardNormal(&rng)) }
        var past = (0..<(B * (c.window - 1) * c.landmarks * 2)).map { _ in Float(rng.nextUnit()) * Float(c.crop - 1) }
        past[0] = .nan; past[1] = .nan
        let current = (0..<(B * c.landmarks * 2)).map { _ in 4 + Float(rng.nextUnit()) * Float(c.crop - 8) }
        let masks = (0..<(B * c.crop * c.crop)).map { _ in rng.nextUnit() > 0.8 ? Float(1) : 0 }
        return TrackingBatch(windows: windows, past: past, current: current, catheterMasks: masks,
                             hasCatheterMask: (0..<B).map { $0 % 2 == 0 })
    }

    /// The worst FD error over `count` elements of each named parameter, relative to its largest analytic gradient.
    func check(_ model: HiFT, _ batch: TrackingBatch, names: [String], count: Int = 6) throws {
        _ = try model.forwardBackward(batch)
        let arena = model.parameters
        var rng = SplitMix64(seed: 9)
        for name in names {
            let view = try #require(arena[name], "\(name)")
            let analytic = arena.gradientArray(name)
            let scale = max(analytic.map(abs).max() ?? 0, 1e-3)  // floor: the Float loss resolves ~1e-5 in a difference
            var worst: Float = 0
            let order = analytic.indices.sorted { abs(analytic[$0]) > abs(analytic[$1]) }
            let picks = Array(order.prefix(count / 2)) + (0..<(count / 2)).map { _ in Int(rng.next() % UInt64(view.count)) }
            for i in picks {
                let p = arena.values.pointer + view.offset + i, saved = p.pointee, h: Float = 2e-3
                p.pointee = saved + h; let up = try model.forwardBackward(batch).precise
                p.pointee = saved - h; let down = try model.forwardBackward(batch).precise
                p.pointee = saved
                worst = max(worst, abs(Float((up - down) / Double(2 * h)) - analytic[i]))
            }
            _ = try model.forwardBackward(batch)
            #expect(worst / scale < 2e-2, "\(name): FD error \(worst) vs largest gradient \(scale)")
            #expect(analytic.contains { $0 != 0 }, "\(name) has no gradient at all")
        }
    }

    @Test func correlationEmbeddingsHeadsAndEncoder() throws {
        Parallel.configure(threads: 1)
        let c = HiFTConfig.tiny
        let model = HiFT(config: c, batch: 2, seed: 4)
        try check(model, Self.tinyBatch(c, batch: 2, seed: 1), names: [
            "correlation.traj_x", "correlation.traj_y", "correlation.landmark", "correlation.age", "correlation.cell",
            "correlation.kind", "heatmap_head.convs.0.weight", "heatmap_head.convs.2.bias", "heatmap_head.out.weight",
            "catheter_head.convs.1.weight", "decoder.blocks.0.norm_kv.weight", "encoder.blocks.1.attn.qkv.weight",
            "encoder.patch_embed.proj.weight",
        ])
    }

    @Test func ablationSwitchesDropTheirTokens() throws {
        Parallel.configure(threads: 1)
        for (appearance, trajectory) in [(true, false), (false, true), (false, false)] {
            var c = HiFTConfig.tiny
            c.appearanceTokens = appearance; c.trajectoryTokens = trajectory
            let model = HiFT(config: c, batch: 2, seed: 4)
            let batch = Self.tinyBatch(c, batch: 2, seed: 2)
            let loss = try model.forwardBackward(batch)
            #expect(loss.total.isFinite)
            let cell = model.parameters.gradientArray("correlation.cell"), traj = model.parameters.gradientArray("correlation.traj_x")
            #expect(cell.contains { $0 != 0 } == appearance, "appearance \(appearance): cell gradient")
            #expect(traj.contains { $0 != 0 } == trajectory, "trajectory \(trajectory): traj_x gradient")
            if appearance || trajectory { try check(model, batch, names: ["correlation.landmark", "decoder.blocks.0.cross_attn.kv.weight"]) }
        }
    }

    @Test func focalTermAndWideTargetsKeepGradientsExact() throws {
        Parallel.configure(threads: 1)
        var c = HiFTConfig.tiny
        c.heatmapFocalWeight = 2; c.sigmaStart = 6
        let model = HiFT(config: c, batch: 2, seed: 4)
        let batch = Self.tinyBatch(c, batch: 2, seed: 3)
        try check(model, batch, names: ["heatmap_head.out.weight", "heatmap_head.convs.1.weight", "decoder.blocks.0.mlp.fc1.weight"])
        // The focal term adds to the loss; a wider target changes the soft Dice.
        var plain = c
        plain.heatmapFocalWeight = nil
        let without = try HiFT(config: plain, batch: 2, seed: 4).forwardBackward(batch)
        let with = try model.forwardBackward(batch)
        #expect(with.total > without.total && with.heatmap == without.heatmap)
        let wide = try model.forwardBackward(batch, sigma: c.targetSigma(progress: 0))
        #expect(wide.heatmap != with.heatmap)
    }

    @Test func headImageSkipPoolsTheCurrentFrameAndKeepsGradientsExact() throws {
        Parallel.configure(threads: 1)
        var c = HiFTConfig.tiny
        c.headImageSkip = true
        let model = HiFT(config: c, batch: 2, seed: 4)
        #expect(model.parameters["heatmap_head.convs.1.weight"]?.shape == [c.headChannels[1], c.headChannels[0] + 1, 3, 3])
        #expect(model.parameters["heatmap_head.convs.0.weight"]?.shape == [c.headChannels[0], c.width, 3, 3])
        let batch = Self.tinyBatch(c, batch: 2, seed: 5)
        try check(model, batch, names: ["heatmap_head.convs.1.weight", "heatmap_head.convs.\(c.headChannels.count - 1).weight",
                                        "catheter_head.convs.2.weight", "heatmap_head.convs.0.weight", "encoder.blocks.1.mlp.fc2.weight"])
        // The extra channel of stage i is window b's last frame averaged over (Sc/s)² blocks.
        let head = model.heatmapHead, P = c.crop * c.crop
        for i in 1..<c.headChannels.count {
            let shape = head.convs[i], s = shape.height, f = c.crop / s, C = shape.inChannels - 1
            for b in 0..<2 {
                let frame = Array(batch.windows[(b * c.window + c.window - 1) * P ..< (b * c.window + c.window) * P])
                let (y, x) = (s - 1, s / 2)
                var sum: Float = 0
                for v in (y * f)..<((y + 1) * f) { for u in (x * f)..<((x + 1) * f) { sum += frame[v * c.crop + u] } }
                let stored = head.inputs[i].pointer[(b * (C + 1) + C) * s * s + y * s + x]
                #expect(abs(stored - sum / Float(f * f)) < 1e-5, "stage \(i) window \(b)")
            }
        }
        // The frame channel's kernels learn: their gradient is not zero.
        let w = model.parameters.gradientArray("heatmap_head.convs.1.weight"), cin = c.headChannels[0] + 1
        let frameKernels = (0..<c.headChannels[1]).flatMap { o in (0..<9).map { w[(o * cin + cin - 1) * 9 + $0] } }
        #expect(frameKernels.contains { $0 != 0 })
    }

    /// Training runs the catheter head on the windows with a mask only: their logits are the
    /// ones the head gives when it runs on every window, and the windows without a mask add nothing.
    @Test(arguments: [false, true]) func catheterHeadRunsOnTheMaskedWindowsOnly(headImageSkip: Bool) throws {
        Parallel.configure(threads: 1)
        var c = HiFTConfig.tiny
        c.headImageSkip = headImageSkip
        let B = 4, P = c.crop * c.crop
        let model = HiFT(config: c, batch: B, seed: 6)
        var batch = Self.tinyBatch(c, batch: B, seed: 7)
        batch.hasCatheterMask = [false, true, false, true]
        let all = batch.windows.withUnsafeBufferPointer { w in
            batch.past.withUnsafeBufferPointer { p in
                Array(UnsafeBufferPointer(start: model.forward(window: w.baseAddress!, past: p.baseAddress!).catheter!, count: B * P))
            }
        }
        let loss = try model.forwardBackward(batch)
        #expect(model.catheterSamples == [1, 3])
        let masked = Array(UnsafeBufferPointer(start: model.catheterHead.logits.pointer, count: 2 * P))
        #expect(masked == Array(all[P..<(2 * P)] + all[(3 * P)..<(4 * P)]))
        // Every gradient is, bit for bit, the all-window head's with a zero catheter gradient for
        // the windows without a mask (the loss computed here as forwardBackward does).
        let subset = model.parameters.gradients.array
        model.parameters.zeroGradients()
        let targets = GaussianTargets.make(points: batch.current, batch: B, landmarks: c.landmarks, size: c.crop, sigma: c.sigma)
        var dHeat = [Float](repeating: 0, count: B * P), dCath = dHeat
        batch.windows.withUnsafeBufferPointer { w in batch.past.withUnsafeBufferPointer { p in
            let (heat, cath) = model.forward(window: w.baseAddress!, past: p.baseAddress!)
            SoftDice.backward(dLogits: &dHeat, logits: heat, targets: targets, weights: Array(repeating: 1 / Double(B), count: B),
                              batch: B, pixels: P)
            let w = Double(c.catheterWeight) / 2
            SoftDice.backward(dLogits: &dCath, logits: cath!, targets: batch.catheterMasks, weights: [0, w, 0, w], batch: B, pixels: P)
        } }
        model.backward(dHeatmap: dHeat, dCatheter: dCath)
        #expect(model.parameters.gradients.array == subset)
        // Changing the masks of the windows without one changes nothing; without any mask the head does not run.
        _ = try model.forwardBackward(batch)
        let gradients = model.parameters.gradientArray("catheter_head.convs.0.weight")
        for i in 0..<P { batch.catheterMasks[i] = 1 - batch.catheterMasks[i] }
        #expect(try model.forwardBackward(batch) == loss)
        #expect(model.parameters.gradientArray("catheter_head.convs.0.weight") == gradients)
        batch.hasCatheterMask = Array(repeating: false, count: B)
        #expect(try model.forwardBackward(batch).catheter == 0 && model.catheterSamples.isEmpty)
        #expect(model.parameters.gradientArray("catheter_head.convs.0.weight").allSatisfy { $0 == 0 })
    }

    @Test func sigmaCurriculumFallsToSigmaByHalfway() throws {
        var c = HiFTConfig.tiny
        #expect(c.targetSigma(progress: 0) == c.sigma)
        c.sigmaStart = 8
        #expect(c.targetSigma(progress: 0) == 8 && c.targetSigma(progress: 0.25) == 5)
        #expect(c.targetSigma(progress: 0.5) == 2 && c.targetSigma(progress: 0.9) == 2)
        // Configs written before these fields existed still decode; the JSON override knows them.
        let old = try JSONEncoder().encode(HiFTConfig.tiny)
        #expect(!String(decoding: old, as: UTF8.self).contains("sigmaStart"))
        #expect(try JSONDecoder().decode(HiFTConfig.self, from: old) == HiFTConfig.tiny)
        let overridden = try HiFTConfig.tiny.overriding(withJSON: Data(#"{"sigmaStart": 6, "heatmapFocalWeight": 1}"#.utf8))
        #expect(overridden.sigmaStart == 6 && overridden.heatmapFocalWeight == 1)
        #expect(throws: (any Error).self) { try HiFTConfig.tiny.overriding(withJSON: Data(#"{"sigmaStart": -1}"#.utf8)) }
    }

    @Test func gaussianTargetsPeakAtTheLandmarks() {
        let t = GaussianTargets.make(points: [3, 4, 10, 2, .nan, .nan, 5, 5], batch: 2, landmarks: 2, size: 12, sigma: 2)
        #expect(t[4 * 12 + 3] == 1 && t[2 * 12 + 10] == 1)
        #expect(abs(t[4 * 12 + 5] - expf(-4.0 / 8)) < 1e-6)
        #expect(t[144 + 5 * 12 + 5] == 1 && t[144].isFinite)
    }

    /// The targets evaluate each Gaussian only where it is not 0 in Float: the same bits as over
    /// every pixel, for narrow and wide sigmas and landmarks near, on and outside the border.
    @Test(arguments: [Float(2), 8, 0.7])
    func gaussianTargetsEqualTheFullEvaluation(sigma: Float) {
        let size = 128
        let points: [Float] = [3.5, 120.25, 64, 64, -20, 50, 140.5, -3, .nan, 7, 1e9, 2]  // [3, 2, 2]
        let got = GaussianTargets.make(points: points, batch: 3, landmarks: 2, size: size, sigma: sigma)
        var want = [Float](repeating: 0, count: 3 * size * size)
        let inv = 1 / (2 * sigma * sigma)
        for b in 0..<3 { for k in 0..<2 {
            let x = points[(b * 2 + k) * 2], y = points[(b * 2 + k) * 2 + 1]
            guard x.isFinite && y.isFinite else { continue }
            for v in 0..<size { for u in 0..<size {
                let d = (Float(u) - x) * (Float(u) - x) + (Float(v) - y) * (Float(v) - y)
                want[(b * size + v) * size + u] = max(want[(b * size + v) * size + u], expf(-d * inv))
            } }
        } }
        #expect(got == want)
        #expect(got.contains { $0 > 0 && $0 < 1e-30 } || sigma < 1)  // the tails are kept down to Float's smallest
    }
}
