import FluoroSupport
import FluoroTensor
import FluoroTraining
import Foundation
import Testing
@testable import FluoroTracking

/// Can the decoder learn to use the trajectory tokens at all? Windows of pure noise carry no
/// position; only the past estimates (trajectory tokens) say where the landmark is, and it stays
/// there. A model that reads them learns to put its peak at the past position; one whose
/// trajectory path were broken could not do better than guessing inside the crop.
@Suite(.serialized) struct TrajectoryLearnabilityTests {
    /// A batch of noise windows whose landmark sits, in every past frame and now, at one random point.
    static func batch(_ c: HiFTConfig, _ B: Int, _ rng: inout SplitMix64) -> TrackingBatch {
        let windows = (0..<(B * c.window * c.crop * c.crop)).map { _ in Float(ParameterArena.standardNormal(&rng)) }
        var past = [Float](), current = [Float]()
        for _ in 0..<B {
            let x = 4 + Float(rng.nextUnit()) * Float(c.crop - 8), y = 4 + Float(rng.nextUnit()) * Float(c.crop - 8)
            current += [x, y]
            for _ in 0..<(c.window - 1) { past += [x, y] }
        }
        return TrackingBatch(windows: windows, past: past, current: current,
                             catheterMasks: [Float](repeating: 0, count: B * c.crop * c.crop), hasCatheterMask: [Bool](repeating: false, count: B))
    }

    /// Mean distance between the read-out and the truth over a fresh batch.
    static func error(_ model: HiFT, _ c: HiFTConfig, _ rng: inout SplitMix64) throws -> Float {
        let B = model.batch, P = c.crop * c.crop
        let test = batch(c, B, &rng)
        let heat = test.windows.withUnsafeBufferPointer { w in
            test.past.withUnsafeBufferPointer { p in model.forward(window: w.baseAddress!, past: p.baseAddress!, auxiliary: false).heatmap }
        }
        var total: Float = 0
        for b in 0..<B {
            let found = HeatmapReadOut.landmarks(logits: heat + b * P, height: c.crop, width: c.crop, count: 1)
            let (x, y) = found[0].map { (Float($0.x), Float($0.y)) } ?? (Float(c.crop) / 2, Float(c.crop) / 2)
            total += hypotf(x - test.current[2 * b], y - test.current[2 * b + 1])
        }
        return total / Float(B)
    }

    @Test func decoderLearnsToPutThePeakAtThePastPosition() throws {
        Parallel.configure(threads: 1)
        var c = HiFTConfig.tiny
        c.landmarks = 1; c.appearanceTokens = false; c.catheterWeight = 0
        c.heatmapBCEWeight = 10; c.sigmaStart = 6
        let B = 4, steps = 250
        let model = HiFT(config: c, batch: B, seed: 1)
        let arena = model.parameters
        let optimizer = AdamW(count: arena.values.count)
        let decay = arena.views.filter(\.decays).map { $0.offset..<($0.offset + $0.count) }
        var rng = SplitMix64(seed: 2), probe = SplitMix64(seed: 3)
        let before = try Self.error(model, c, &probe)
        for step in 0..<steps {
            let batch = Self.batch(c, B, &rng)
            _ = try model.forwardBackward(batch, sigma: c.targetSigma(progress: Double(step) / Double(steps)))
            optimizer.step(parameters: arena.values.buffer, gradients: UnsafeBufferPointer(arena.gradients.buffer),
                           decayRanges: decay, learningRate: 1e-3)
        }
        probe = SplitMix64(seed: 3)
        let after = try Self.error(model, c, &probe)
        // Guessing inside a 32 px crop is off by ~10 px; reading the trajectory tokens (bins of 2 px) by ~1.
        #expect(before > 6, "an untrained model guesses (\(before) px)")
        #expect(after < 3, "after \(steps) steps the peak should sit at the past position: \(after) px (was \(before))")
    }
}
