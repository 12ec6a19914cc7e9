import FluoroShards
import FluoroSupport
import FluoroTensor
import FluoroTraining
import Foundation

/// `fluoro bench track`: a fine-tuning step (forward, backward, AdamW; batch B) and a tracking
/// step (batch 1: crop, window standardisation, forward without the auxiliary head, read-out) on
/// random inputs shaped like the reference's, medians over repeats.
public enum TrackBenchmark {
    public struct Result: Sendable {
        public var trainStepSeconds: Double
        public var trackStepSeconds: Double
        public var batch: Int
        public var parameters: Int
        public var peakResidentBytes: Int
        public var trainWindowsPerSecond: Double { Double(batch) / trainStepSeconds }
        public var trackFramesPerSecond: Double { 1 / trackStepSeconds }
    }

    public static func run(config: HiFTConfig, batch: Int, steps: Int, threads: Int) throws -> Result {
        Parallel.configure(threads: threads)  // OpenBLAS on one thread: Fluoro's loops split the work
        _ = AllocatorTuning.keepLargeBuffersInHeap()  // as fine-tuning does
        let train = try trainStep(config: config, batch: batch, steps: steps, threads: threads)
        let track = try trackStep(config: config, steps: steps)
        return Result(trainStepSeconds: train.seconds, trackStepSeconds: track, batch: batch, parameters: train.parameters,
                      peakResidentBytes: StepBenchmark.peakResidentBytes())
    }

    /// Median seconds of forward + backward + AdamW at batch B.
    static func trainStep(config c: HiFTConfig, batch B: Int, steps: Int, threads: Int) throws -> (seconds: Double, parameters: Int) {
        let model = HiFT(config: c, batch: B)
        let arena = model.parameters
        let optimizer = AdamW(count: arena.values.count, threads: threads)
        let decays = arena.views.filter(\.decays).map { $0.offset..<($0.offset + $0.count) }
        var rng = SplitMix64(seed: 0)
        var times: [Double] = []
        for i in 0..<(steps + 2) {
            let batch = randomBatch(c, batch: B, &rng)
            let t0 = Date()
            _ = try model.forwardBackward(batch)
            optimizer.step(parameters: arena.values.buffer, gradients: UnsafeBufferPointer(arena.gradients.buffer),
                           decayRanges: decays, learningRate: 2e-4)
            if i >= 2 { times.append(Date().timeIntervalSince(t0)) }
        }
        return (median(times), arena.parameterCount)
    }

    /// Median seconds of one online tracking step at batch 1 (HiFTTracker on 2·Sc-px frames).
    static func trackStep(config c: HiFTConfig, steps: Int) throws -> Double {
        let tracker = HiFTTracker(model: HiFT(config: c, batch: 1))
        var rng = SplitMix64(seed: 1)
        let side = 2 * c.crop
        func frame() -> TrackingFrame {
            TrackingFrame(pixels: (0..<(side * side)).map { _ in Float(rng.nextUnit()) }, width: side, height: side)
        }
        try tracker.start(first: frame(), landmarks: (0..<c.landmarks).map { Point2(x: Float(side / 2 + 8 * $0), y: Float(side / 2)) })
        var times: [Double] = []
        for i in 0..<(steps + 2) {
            let next = frame()
            let t0 = Date()
            _ = try tracker.track(next)
            if i >= 2 { times.append(Date().timeIntervalSince(t0)) }
        }
        return median(times)
    }

    /// The reference's inputs: standard-normal windows, past estimates drifting from a start
    /// point, the current landmarks after them, catheter masks on half the samples.
    static func randomBatch(_ c: HiFTConfig, batch B: Int, _ rng: inout SplitMix64) -> TrackingBatch {
        let P = c.crop * c.crop, K = c.landmarks, W = c.window, S = Float(c.crop)
        let windows = (0..<(B * W * P)).map { _ in Float(ParameterArena.standardNormal(&rng)) }
        var points = [Float](repeating: 0, count: B * W * K * 2)
        for b in 0..<B {
            for k in 0..<K {
                var x = S * 0.25 + S * 0.5 * Float(rng.nextUnit()), y = S * 0.25 + S * 0.5 * Float(rng.nextUnit())
                for f in 0..<W {
                    x = min(max(x + Float(ParameterArena.standardNormal(&rng)), 1), S - 2)
                    y = min(max(y + Float(ParameterArena.standardNormal(&rng)), 1), S - 2)
                    points[((b * W + f) * K + k) * 2] = x; points[((b * W + f) * K + k) * 2 + 1] = y
                }
            }
        }
        var past: [Float] = [], current: [Float] = []
        let perWindow = W * K * 2, perFrame = K * 2
        for b in 0..<B {
            let start: Int = b * perWindow, last: Int = start + (W - 1) * perFrame
            past.append(contentsOf: points[start..<last])
            current.append(contentsOf: points[last..<(start + perWindow)])
        }
        let masks = (0..<(B * P)).map { _ in rng.nextUnit() > 0.8 ? Float(1) : 0 }
        return TrackingBatch(windows: windows, past: past, current: current, catheterMasks: masks,
                             hasCatheterMask: (0..<B).map { $0 % 2 == 0 })
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }
}
