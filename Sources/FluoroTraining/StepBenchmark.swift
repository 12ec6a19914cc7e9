import FluoroDistributed
import FluoroModel
import FluoroShards
import FluoroSupport
import FluoroTensor
import Foundation

/// Times whole training steps — forward, backward, gradient all-reduce and AdamW — on random
/// data, as the PyTorch reference's `bench` does (standard-normal clips, uniform vesselness,
/// METHOD §4 masks), so the two can be compared in one run.
public enum StepBenchmark {
    /// One measurement (this rank's view; throughput is for all ranks together).
    public struct Result: Sendable {
        /// Median seconds of the whole step, and of its parts.
        public var stepSeconds: Double
        public var computeSeconds: Double
        public var communicationSeconds: Double
        public var optimizerSeconds: Double
        /// Clips per second over all ranks: ranks x batch / step.
        public var clipsPerSecond: Double
        /// Model FLOP/s of this rank (3x the forward matrix-product FLOPs per step).
        public var gflops: Double
        /// Peak resident memory of this process, bytes.
        public var peakResidentBytes: Int
        public var parameters: Int
        public var ranks: Int
        /// Mean seconds per step of the model's phases (encoder/decoders, forward/backward).
        public var sections: [String: Double]
    }

    /// Runs `steps` timed steps after two warm-up steps.
    public static func run(config: ModelConfig, batch: Int, steps: Int, threads: Int, communicator: Communicator,
                           seed: UInt64 = 0) throws -> Result {
        Parallel.configure(threads: threads)
        let model = FIMAESC(config: config, batch: batch, seed: seed)
        let arena = model.parameters
        let optimizer = AdamW(arena: arena, threads: threads)
        let decay = arena.views.filter(\.decays).map { $0.offset..<($0.offset + $0.count) }
        let reducer = GradientReducer(communicator: communicator, gradients: arena.gradients.buffer)
        var rng = SplitMix64.derived(from: seed, UInt64(communicator.rank))
        let pixels = batch * config.frames * config.size * config.size
        var clip = [Float](repeating: 0, count: pixels), vessel = clip
        var total: [Double] = [], compute: [Double] = [], comm: [Double] = [], adam: [Double] = []
        for step in 0..<(steps + 2) {
            for i in 0..<pixels {
                clip[i] = Float(ParameterArena.standardNormal(&rng))
                vessel[i] = Float(rng.nextUnit())
            }
            let spec = config.clipSpec
            let mask = (0..<batch).flatMap { _ in TokenMask.draw(spec: spec, using: &rng) }  // [B, N], METHOD §4
            if step == 2 { model.profiling = true; model.sectionSeconds = [:] }
            try communicator.barrier()
            let t0 = DispatchTime.now().uptimeNanoseconds
            _ = try model.forwardBackward(clip: clip, vessel: vessel, mask: mask)
            let t1 = DispatchTime.now().uptimeNanoseconds
            try reducer.averageAll()
            let t2 = DispatchTime.now().uptimeNanoseconds
            optimizer.step(parameters: arena.values.buffer, gradients: UnsafeBufferPointer(arena.gradients.buffer),
                           decayRanges: decay, learningRate: 1e-4)
            let t3 = DispatchTime.now().uptimeNanoseconds
            if step >= 2 {
                total.append(Double(t3 - t0) / 1e9)
                compute.append(Double(t1 - t0) / 1e9)
                comm.append(Double(t2 - t1) / 1e9)
                adam.append(Double(t3 - t2) / 1e9)
            }
        }
        let step = median(total)
        return Result(stepSeconds: step, computeSeconds: median(compute), communicationSeconds: median(comm),
                      optimizerSeconds: median(adam),
                      clipsPerSecond: Double(batch * communicator.size) / step,
                      gflops: flopsPerStep(config: config, batch: batch) / step / 1e9,
                      peakResidentBytes: peakResidentBytes(), parameters: arena.parameterCount, ranks: communicator.size,
                      sections: model.sectionSeconds.mapValues { $0 / Double(max(1, steps)) })
    }

    /// Model FLOPs of one training step: 3x the forward pass's matrix-product FLOPs (the backward
    /// pass costs two forward passes). Elementwise work is not counted.
    public static func flopsPerStep(config c: ModelConfig, batch B: Int) -> Double {
        let V = Double(c.tokenValues), N = Double(c.tokens), Nv = Double(c.visibleTokens)
        func blocks(_ depth: Int, tokens n: Double, width d: Double) -> Double {
            let rows = Double(B) * n
            let linear = 2 * rows * d * (3 * d + d + 2 * Double(c.mlpRatio) * d)
            let attention = 2 * 2 * Double(B) * n * n * d
            return Double(depth) * (linear + attention)
        }
        let D = Double(c.width), Dd = Double(c.decoderWidth)
        var forward = 2 * Double(B) * Nv * V * D            // patch embedding of the visible tokens
        forward += blocks(c.depth, tokens: Nv, width: D)
        forward += 2 * Double(B) * Nv * D * Dd               // encoder_to_decoder
        let decoders = c.wVes == 0 ? 1.0 : 2.0
        forward += decoders * (blocks(c.decoderDepth, tokens: N, width: Dd) + 2 * Double(B) * N * Dd * V)
        return 3 * forward
    }

    /// Peak resident set size of this process (getrusage), bytes.
    public static func peakResidentBytes() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss * 1024  // Linux reports kilobytes
    }

    static func median(_ xs: [Double]) -> Double { xs.isEmpty ? 0 : xs.sorted()[xs.count / 2] }
}
