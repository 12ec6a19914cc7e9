import FluoroModel
import FluoroSupport
import FluoroTensor
import Foundation

/// Writes and reads back one checkpoint of a model's size (parameters and AdamW moments, as
/// `Pretrainer` does) and measures the time and the peak memory each adds to the process beyond
/// the model and optimiser themselves: what checkpointing costs rank 0 at the base model's size.
public enum CheckpointBenchmark {
    /// One measurement.
    public struct Result: Codable, Sendable {
        public var parameters: Int
        /// Size of tensors.safetensors.
        public var fileBytes: Int
        public var writeSeconds: Double
        /// Peak resident memory added by the write, bytes (getrusage's maximum before and after).
        public var writePeakExtraBytes: Int
        public var loadSeconds: Double
        /// Peak resident memory added by loading and restoring it, bytes.
        public var loadPeakExtraBytes: Int
    }

    /// Saves a checkpoint of `config`'s parameters and moments into `<run>/checkpoints`, then loads
    /// and restores it. The write is measured first, while the process's peak is the model's.
    public static func run(config: ModelConfig, run: URL) throws -> Result {
        let arena = ParameterArena(specs: FIMAESCParameters.specs(for: config))
        arena.initialize(seed: 1)
        let optimizer = AdamW(arena: arena)
        let store = CheckpointStore(runDirectory: run, keep: 1)
        let base = StepBenchmark.peakResidentBytes()
        var t0 = Date()
        let stream = CheckpointTensors.writer(parameters: arena, optimizer: optimizer, metadata: ["benchmark": "checkpoint"])
        let directory = try store.save(step: 1, tensors: stream, state: Data("{}".utf8))
        let writeSeconds = Date().timeIntervalSince(t0)
        let afterWrite = StepBenchmark.peakResidentBytes()
        t0 = Date()
        try CheckpointTensors.restore(try CheckpointStore.load(directory), parameters: arena, optimizer: optimizer, optimizerStep: 0)
        let loadSeconds = Date().timeIntervalSince(t0)
        let fileBytes = (try FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent("tensors.safetensors").path)[.size] as? Int) ?? 0
        return Result(parameters: arena.parameterCount, fileBytes: fileBytes, writeSeconds: writeSeconds,
                      writePeakExtraBytes: afterWrite - base, loadSeconds: loadSeconds,
                      loadPeakExtraBytes: StepBenchmark.peakResidentBytes() - afterWrite)
    }
}
