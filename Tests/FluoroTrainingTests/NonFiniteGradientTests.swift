import FluoroDistributed
import FluoroModel
import FluoroTensor
import Foundation
import Testing
@testable import FluoroTraining

/// A NaN gradient with a finite loss (issue 10, item 7): stop naming step and tensor, or skip the step.
@Suite(.serialized) struct NonFiniteGradientTests {
    /// The tensor the `nangrad` fault poisons: the arena's last view.
    static let poisoned = FIMAESC(config: .tiny, batch: 1, seed: 0).parameters.views.last!.name

    @Test func aNaNGradientStopsTheRunNamingStepAndTensor() throws {
        Parallel.configure(threads: 1)
        let dir = try PretrainerTests.makeDataset()
        defer { try? FileManager.default.removeItem(at: dir) }
        var options = PretrainerTests.options(dir, run: "run", steps: 6)
        options.fault = FaultInjection(rank: 0, step: 3, kind: .nanGradient)
        do {
            _ = try Pretrainer(options: options, communicator: LocalCommunicator()).run()
            Issue.record("a NaN gradient must stop the run")
        } catch let error as TrainingError {
            guard case let .nonFiniteGradient(step, tensor, _) = error else { Issue.record("wrong error: \(error)"); return }
            #expect(step == 3 && tensor == Self.poisoned)
            #expect("\(error)".contains("--skip-nonfinite"))
        }
    }

    @Test func skipNonFiniteSkipsTheUpdateAndTrainsOn() throws {
        Parallel.configure(threads: 1)
        let dir = try PretrainerTests.makeDataset()
        defer { try? FileManager.default.removeItem(at: dir) }
        var options = PretrainerTests.options(dir, run: "run", steps: 6)
        options.fault = FaultInjection(rank: 0, step: 3, kind: .nanGradient)
        options.skipNonFiniteGradients = true
        let summary = try Pretrainer(options: options, communicator: LocalCommunicator()).run()
        #expect(summary.lastStep == 6)
        let records = try MetricsLog.read(dir.appendingPathComponent("run/metrics.jsonl"))
        #expect(records.filter { $0["skipped_nonfinite"] as? Bool == true }.compactMap { ($0["step"] as? NSNumber)?.intValue } == [4])
        let tensors = try PretrainerTests.finalTensors(dir.appendingPathComponent("run"))
        #expect(tensors.values.allSatisfy { $0.allSatisfy(\.isFinite) })
        let state = try JSONDecoder().decode(TrainingState.self, from: CheckpointStore(runDirectory: dir.appendingPathComponent("run")).latest().state)
        #expect(state.optimizerStep == 5)  // six steps, one without an update
    }
}
