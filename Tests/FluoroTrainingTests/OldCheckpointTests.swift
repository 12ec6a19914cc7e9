import FluoroDistributed
import FluoroModel
import FluoroTensor
import Foundation
import Testing
@testable import FluoroTraining

/// A checkpoint written by Fluoro 0.1.0 (Fixtures/checkpoint-0.1.0, with the dataset it was
/// trained on) loads in this version: state.json decodes with defaults for the fields added
/// since, the tensors restore, and the run continues from it (issue 10, item 13).
@Suite(.serialized) struct OldCheckpointTests {
    static var fixture: URL {
        get throws {
            guard let resources = Bundle.module.resourceURL else { throw CocoaError(.fileNoSuchFile) }
            return resources.appendingPathComponent("Fixtures/checkpoint-0.1.0")
        }
    }

    @Test func stateDecodesWithDefaultsAndTensorsRestore() throws {
        let checkpoint = try CheckpointStore.load(Self.fixture.appendingPathComponent("step-00000003"))
        let state = try JSONDecoder().decode(TrainingState.self, from: checkpoint.state)
        #expect(state.step == 3 && state.optimizerStep == 3 && state.loaderCursor.nextSample == 3)
        #expect(state.settings.accumulationSteps == 1 && state.settings.globalBatch == 1)
        #expect(state.settings.validationEvery == nil && state.settings.validationClips == 16)
        #expect(state.settings.model.width == 8 && state.settings.model.size == 16)
        let arena = ParameterArena(specs: FIMAESCParameters.specs(for: state.settings.model))
        let optimizer = AdamW(arena: arena)
        try CheckpointTensors.restore(checkpoint, parameters: arena, optimizer: optimizer, optimizerStep: state.optimizerStep)
        #expect(optimizer.step == 3)
        for view in arena.views {
            #expect(arena.valueArray(view.name) == (try checkpoint.tensors.floats(CheckpointTensors.parameterPrefix + view.name)))
        }
        #expect(Array(optimizer.moments.v) == (try checkpoint.tensors.floats(CheckpointTensors.secondMoment)))
        #expect(optimizer.moments.v.contains { $0 > 0 })
    }

    @Test func runContinuesFromIt() throws {
        Parallel.configure(threads: 1)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fluoro-old-checkpoint-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let checkpoints = dir.appendingPathComponent("run/checkpoints")
        try FileManager.default.createDirectory(at: checkpoints, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Self.fixture.appendingPathComponent("step-00000003"),
                                         to: checkpoints.appendingPathComponent("step-00000003"))
        var settings = TrainingSettings(model: .tiny, preset: "tiny", steps: 5, batchPerRank: 1, ranks: 1, seed: 4)
        settings.keepCheckpoints = 3
        var options = Pretrainer.Options(shards: try Self.fixture.appendingPathComponent("shards"), run: dir.appendingPathComponent("run"), settings: settings)
        options.resume = .latest
        options.loaderWorkers = 1
        options.stallTimeout = nil
        options.panelClips = 0
        let summary = try Pretrainer(options: options, communicator: LocalCommunicator()).run()
        #expect(summary.firstStep == 3 && summary.lastStep == 5)
        let state = try JSONDecoder().decode(TrainingState.self, from: CheckpointStore(runDirectory: dir.appendingPathComponent("run")).latest().state)
        #expect(state.step == 5 && state.optimizerStep == 5 && state.settings.model.width == 8)
        // The new state.json carries the fields added since 0.1.0.
        let object = try JSONSerialization.jsonObject(with: CheckpointStore(runDirectory: dir.appendingPathComponent("run")).latest().state) as? [String: Any]
        #expect((object?["settings"] as? [String: Any])?["accumulationSteps"] as? Int == 1)
    }
}
