import FluoroDistributed
import FluoroModel
import FluoroTensor
import Foundation
import Testing
@testable import FluoroTraining

/// `--precision` as a run setting: saved in config.json and the checkpoint, kept on resume, a
/// different one named on resume refused; bf16 and fp32 runs from one seed start from the same loss.
@Suite(.serialized) struct PrecisionRunTests {
    @Test func bf16IsSavedKeptOnResumeAndAMismatchIsRefused() throws {
        guard DNNLMatmul.probeBF16() == nil else { return }
        Parallel.configure(threads: 1)
        let dir = try PretrainerTests.makeDataset()
        defer { try? FileManager.default.removeItem(at: dir) }
        var options = PretrainerTests.options(dir, run: "bf16", steps: 6)
        options.settings.precision = .bf16
        options.settings.checkpointEvery = 3
        options.stopAtStep = 3
        options.allowBF16Emulation = true  // the numerics, not the speed, are under test
        _ = try Pretrainer(options: options, communicator: LocalCommunicator()).run()
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("bf16/config.json"))) as? [String: Any]
        #expect(config?["precision"] as? String == "bf16")
        #expect(MatrixPrecision.current == .fp32, "the run's precision does not leak out of it")

        // Resuming while naming fp32 is refused; without naming it, the run continues in bf16.
        var wrong = PretrainerTests.options(dir, run: "bf16", steps: 6)
        wrong.resume = .latest
        wrong.settings.precision = .fp32
        wrong.explicit = [.precision]
        #expect(throws: TrainingError.self) { try Pretrainer(options: wrong, communicator: LocalCommunicator()).run() }
        var resumed = PretrainerTests.options(dir, run: "bf16", steps: 6)
        resumed.resume = .latest
        resumed.allowBF16Emulation = true
        let summary = try Pretrainer(options: resumed, communicator: LocalCommunicator()).run()
        #expect(summary.lastStep == 6)
        let state = try JSONDecoder().decode(TrainingState.self, from: CheckpointStore(runDirectory: dir.appendingPathComponent("bf16")).latest().state)
        #expect(state.settings.precision == .bf16)

        // The same seed in fp32: the first loss agrees to bf16 rounding, and is not bit-identical.
        let fp32 = PretrainerTests.options(dir, run: "fp32", steps: 1)
        let first32 = try Pretrainer(options: fp32, communicator: LocalCommunicator()).run().firstLoss ?? .nan
        let log = try MetricsLog.read(dir.appendingPathComponent("bf16/metrics.jsonl"))
        let first16 = Float((log.first?["loss"] as? NSNumber)?.doubleValue ?? .nan)
        #expect(abs(first16 - first32) <= 1e-2 * abs(first32), "first loss bf16 \(first16) vs fp32 \(first32)")
        #expect(first16 != first32)
    }

    /// Settings written before `precision` existed decode as fp32.
    @Test func oldSettingsDecodeAsFP32() throws {
        var settings = TrainingSettings(model: .tiny, preset: "tiny", steps: 1, batchPerRank: 1, ranks: 1, seed: 0)
        var object = try JSONSerialization.jsonObject(with: settings.encoded()) as! [String: Any]
        object.removeValue(forKey: "precision")
        settings = try JSONDecoder().decode(TrainingSettings.self, from: JSONSerialization.data(withJSONObject: object))
        #expect(settings.precision == nil && settings.matrixPrecision == .fp32)
    }
}
