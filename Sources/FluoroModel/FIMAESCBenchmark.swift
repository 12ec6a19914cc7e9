import Foundation
import FluoroSupport
import FluoroTensor

/// Times FIMAE-SC training steps on random data, like the reference's `bench` command.
public enum FIMAESCBenchmark {
    /// One benchmark's outcome.
    public struct Result: Sendable {
        /// Median seconds of forward + backward over the timed steps.
        public var stepSeconds: Double
        /// Median seconds of a plain AdamW-shaped pass over the arena (an optimizer stand-in, for a
        /// like-for-like comparison with the reference, whose step includes AdamW).
        public var optimizerSeconds: Double
        public var clipsPerSecond: Double
        public var parameters: Int
        public var losses: FIMAESC.LossTerms
        /// Median-step share of each phase: seconds per step averaged over the timed steps.
        public var sections: [String: Double]
    }

    /// Runs `steps` timed steps (after two warm-up steps) with `threads` threads for BLAS and the
    /// other loops. Clips are standard normal, vesselness uniform, masks tube + frame (METHOD §4).
    public static func run(config: ModelConfig, batch: Int, steps: Int = 10, threads: Int = 1, seed: UInt64 = 0) throws -> Result {
        Parallel.configure(threads: threads)
        let model = FIMAESC(config: config, batch: batch, seed: seed)
        var rng = SplitMix64(seed: seed &+ 1)
        let pixels = batch * config.frames * config.size * config.size
        var clip = [Float](repeating: 0, count: pixels), vessel = clip
        var stepTimes: [Double] = [], optimizerTimes: [Double] = []
        var losses: FIMAESC.LossTerms = (0, 0, 0)
        let moments = FloatBuffer(count: 2 * model.parameters.values.count)
        for step in 0..<(steps + 2) {
            for i in 0..<pixels {
                clip[i] = Float(ParameterArena.standardNormal(&rng))
                vessel[i] = Float(rng.nextUnit())
            }
            let mask = randomMask(config: config, batch: batch, rng: &rng)
            let t0 = DispatchTime.now().uptimeNanoseconds
            losses = try model.forwardBackward(clip: clip, vessel: vessel, mask: mask)
            let t1 = DispatchTime.now().uptimeNanoseconds
            adamLikePass(model.parameters, moments: moments)
            let t2 = DispatchTime.now().uptimeNanoseconds
            if step == 1 { model.profiling = true; model.sectionSeconds = [:] }
            if step >= 2 {
                stepTimes.append(Double(t1 - t0) / 1e9)
                optimizerTimes.append(Double(t2 - t1) / 1e9)
            }
        }
        let step = median(stepTimes), optimizer = median(optimizerTimes)
        return Result(stepSeconds: step, optimizerSeconds: optimizer, clipsPerSecond: Double(batch) / (step + optimizer),
                      parameters: model.parameters.parameterCount, losses: losses,
                      sections: model.sectionSeconds.mapValues { $0 / Double(max(1, steps)) })
    }

    /// A [B, N] tube + frame mask (1 = hidden) per METHOD §4.
    public static func randomMask(config c: ModelConfig, batch: Int, rng: inout SplitMix64) -> [UInt8] {
        let C = c.cellsPerSlot, slots = c.slots
        var mask = [UInt8](repeating: 0, count: batch * c.tokens)
        for b in 0..<batch {
            let tube = Array((0..<C).shuffled(using: &rng).prefix(c.tubeHidden))
            let framed = Set((0..<slots).shuffled(using: &rng).prefix(c.frameMaskedSlots))
            for t in 0..<slots {
                let cells = framed.contains(t) ? Array((0..<C).shuffled(using: &rng).prefix(c.frameHidden)) : tube
                for cell in cells { mask[b * c.tokens + t * C + cell] = 1 }
            }
        }
        return mask
    }

    /// Touches every parameter, gradient and two moments the way an AdamW update does.
    static func adamLikePass(_ arena: ParameterArena, moments: FloatBuffer) {
        let n = arena.values.count
        let p = arena.values.pointer, g = arena.gradients.pointer, m = moments.pointer, v = moments.pointer + n
        for i in 0..<n {
            m[i] = 0.9 * m[i] + 0.1 * g[i]
            v[i] = 0.95 * v[i] + 0.05 * g[i] * g[i]
            p[i] -= 1e-12 * (m[i] / ((v[i]).squareRoot() + 1e-8) + 0.05 * p[i])
        }
    }

    static func median(_ xs: [Double]) -> Double {
        guard !xs.isEmpty else { return 0 }
        let s = xs.sorted()
        return s[s.count / 2]
    }
}
