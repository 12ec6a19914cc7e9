import FluoroDistributed
import FluoroModel
import FluoroTensor
import Foundation
import Testing
@testable import FluoroTraining

/// Configs whose tensors are not multiples of 16 floats (the arena pads each view) train, checkpoint,
/// resume and benchmark like the presets (issue 10, item 1).
@Suite(.serialized) struct OddConfigTests {
    static let odd: [ModelConfig] = [
        ModelConfig(frames: 4, size: 48, tubelet: 2, patch: 8, width: 40, depth: 1, heads: 2,
                    decoderWidth: 20, decoderDepth: 1, decoderHeads: 2, frameMaskedSlots: 1),
        ModelConfig(frames: 4, size: 42, tubelet: 2, patch: 7, width: 40, depth: 1, heads: 5,
                    decoderWidth: 18, decoderDepth: 1, decoderHeads: 3, frameMaskedSlots: 1),
    ]

    @Test(arguments: odd) func anOddConfigTrainsAndResumes(_ config: ModelConfig) throws {
        Parallel.configure(threads: 1)
        let arena = FIMAESC(config: config, batch: 1, seed: 0).parameters
        #expect(arena.values.count > arena.parameterCount)  // the case that crashed: padded storage
        let dir = try PretrainerTests.makeDataset()
        defer { try? FileManager.default.removeItem(at: dir) }
        var options = PretrainerTests.options(dir, run: "run", steps: 3)
        options.settings.model = config
        options.settings.checkpointEvery = 2
        options.stopAtStep = 2
        let first = try Pretrainer(options: options, communicator: LocalCommunicator()).run()
        #expect(first.lastStep == 2 && first.lastLoss?.isFinite == true)
        options.stopAtStep = nil
        options.resume = .latest
        let resumed = try Pretrainer(options: options, communicator: LocalCommunicator()).run()
        #expect(resumed.firstStep == 2 && resumed.lastStep == 3)
    }

    @Test(arguments: odd) func theStepBenchmarkRunsAnOddConfig(_ config: ModelConfig) throws {
        let result = try StepBenchmark.run(config: config, batch: 1, steps: 1, threads: 1, communicator: LocalCommunicator())
        #expect(result.stepSeconds > 0)
        Parallel.configure(threads: 1)
    }
}
