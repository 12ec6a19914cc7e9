import FluoroDistributed
import FluoroTensor
import Foundation
import Testing
@testable import FluoroTraining

/// `--resume PATH` into another run directory (issue 10, item 5).
@Suite(.serialized) struct ResumeIntoOtherRunTests {
    /// A run directory holding later steps would prune every new checkpoint: refused, naming them.
    /// One holding only earlier steps (or none) takes the resumed run.
    @Test func resumingIntoARunWithLaterCheckpointsIsRefused() throws {
        Parallel.configure(threads: 1)
        let dir = try PretrainerTests.makeDataset()
        defer { try? FileManager.default.removeItem(at: dir) }
        var source = PretrainerTests.options(dir, run: "a", steps: 4)
        source.settings.checkpointEvery = 2
        _ = try Pretrainer(options: source, communicator: LocalCommunicator()).run()
        _ = try Pretrainer(options: PretrainerTests.options(dir, run: "b", steps: 6), communicator: LocalCommunicator()).run()

        var into = PretrainerTests.options(dir, run: "b", steps: 6)
        into.resume = .path(dir.appendingPathComponent("a/checkpoints/step-00000002"))
        #expect { try Pretrainer(options: into, communicator: LocalCommunicator()).run() } throws: {
            "\($0)".contains("holds checkpoints after step 2") && "\($0)".contains("steps 6")
        }
        #expect(CheckpointStore(runDirectory: dir.appendingPathComponent("b")).completeSteps() == [6])

        var fresh = PretrainerTests.options(dir, run: "c", steps: 6)
        fresh.resume = .path(dir.appendingPathComponent("a/checkpoints/step-00000002"))
        fresh.settings.checkpointEvery = 2
        let summary = try Pretrainer(options: fresh, communicator: LocalCommunicator()).run()
        #expect(summary.firstStep == 2 && summary.lastStep == 6)
        #expect(CheckpointStore(runDirectory: dir.appendingPathComponent("c")).completeSteps() == [4, 6])
    }
}
