import FluoroDistributed
import FluoroModel
import FluoroShards
import FluoroSim
import FluoroTensor
import Foundation
import Testing
@testable import FluoroTraining

/// The validation loss (issue 10, item 14): fixed clips from held-out shards, the same value for
/// the same parameters, in metrics.jsonl and TensorBoard, and the same after a resume.
@Suite(.serialized) struct ValidationLossTests {
    /// A training dataset (`shards/`) and held-out shards of other simulated runs (`validation/`).
    static func makeDatasets() throws -> URL {
        let dir = try PretrainerTests.makeDataset()
        let writer = try ShardDatasetWriter(directory: dir.appendingPathComponent("validation"))
        try XRaySimulator(config: SimulatorConfig(frames: 12, size: 64, kind: .mixed, seed: 8)).sequences(0..<3, threads: 2) {
            try writer.append($0)
        }
        try writer.finish()
        return dir
    }

    static func options(_ dir: URL, run: String, steps: Int) -> Pretrainer.Options {
        var options = PretrainerTests.options(dir, run: run, steps: steps)
        options.panelClips = 0
        options.validationShards = dir.appendingPathComponent("validation")
        options.settings.validationEvery = 2
        options.settings.validationClips = 5
        return options
    }

    /// Two sets built on the same shards give the same value for the same parameters, every
    /// time; other parameters give another value.
    @Test func sameParametersGiveTheSameValue() throws {
        Parallel.configure(threads: 1)
        let dir = try Self.makeDatasets()
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = try ShardDataset(directory: dir.appendingPathComponent("validation"))
        let model = FIMAESC(config: .tiny, batch: 2, seed: 3)
        func set() throws -> ValidationSet {
            try ValidationSet(source: source, config: .tiny, parameters: model.parameters, count: 5, rank: 0, ranks: 1, requireVesselness: true)
        }
        let first = try set(), second = try set()
        let a = try first.evaluate(communicator: LocalCommunicator())
        let b = try second.evaluate(communicator: LocalCommunicator())
        let again = try first.evaluate(communicator: LocalCommunicator())
        #expect(a.total.isFinite && a.total > 0)
        #expect(a == b && a == again)
        // The clips are global samples 0..<5 of the validation seed's stream: 3 sequences, then 2 more crops.
        #expect(first.clips.map { $0.samples[0] } == [0, 1, 2, 3, 4])
        #expect(Set(first.clips.prefix(3).map { $0.plans[0].sequence }) == [0, 1, 2])
        model.parameters.values.buffer[model.parameters.views[0].offset] += 0.5
        #expect(try first.evaluate(communicator: LocalCommunicator()) != a)
    }

    /// Every 2 steps (and at the end) the validation loss is in metrics.jsonl and TensorBoard; a
    /// run stopped at step 5 and resumed has the uninterrupted run's values, bit for bit.
    @Test func recordedEveryKStepsAndResumeSafe() throws {
        Parallel.configure(threads: 1)
        let dir = try Self.makeDatasets()
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try Pretrainer(options: Self.options(dir, run: "whole", steps: 9), communicator: LocalCommunicator()).run()
        var first = Self.options(dir, run: "split", steps: 9)
        first.stopAtStep = 5
        _ = try Pretrainer(options: first, communicator: LocalCommunicator()).run()
        var resumed = Self.options(dir, run: "split", steps: 9)
        resumed.resume = .latest
        _ = try Pretrainer(options: resumed, communicator: LocalCommunicator()).run()

        func validation(_ run: String) throws -> [Int: Double] {
            let records = try MetricsLog.read(dir.appendingPathComponent("\(run)/metrics.jsonl"))
            var out: [Int: Double] = [:]
            for r in records { if let v = (r["val_loss"] as? NSNumber)?.doubleValue { out[(r["step"] as! NSNumber).intValue] = v } }
            return out
        }
        let whole = try validation("whole"), split = try validation("split")
        #expect(whole.keys.sorted() == [2, 4, 6, 8, 9])
        #expect(split == whole)
        let events = try TensorBoardWriter.eventFiles(in: dir.appendingPathComponent("whole/tensorboard")).flatMap { try TensorBoardWriter.read($0) }
        let steps = events.compactMap { event -> Int? in
            guard case let .summary(values) = event.payload, values.contains(where: { $0.tag == "val/loss" }) else { return nil }
            return Int(event.step)
        }
        #expect(steps == [2, 4, 6, 8, 9])
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("whole/config.json"))) as? [String: Any]
        #expect((config?["validation"] as? [String: Any])?["every"] as? Int == 2)
    }
}
