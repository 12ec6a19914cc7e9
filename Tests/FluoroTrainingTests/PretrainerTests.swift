import FluoroDistributed
import FluoroModel
import FluoroShards
import FluoroSim
import FluoroTensor
import Foundation
import Testing
@testable import FluoroTraining

/// Single-process pretraining through the library: loss falls, resume is exact, NaN stops the run.
@Suite(.serialized) struct PretrainerTests {
    /// A small synthetic dataset (angio and fluoro runs with vesselness), made once per test.
    static func makeDataset() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fluoro-pretrain-\(UUID().uuidString)")
        let writer = try ShardDatasetWriter(directory: dir.appendingPathComponent("shards"))
        try XRaySimulator(config: SimulatorConfig(frames: 12, size: 64, kind: .mixed, seed: 3)).sequences(0..<6, threads: 2) {
            try writer.append($0)
        }
        try writer.finish()
        return dir
    }

    static func options(_ dir: URL, run: String, steps: Int, batch: Int = 2, lr: Double = 0.1) -> Pretrainer.Options {
        var settings = TrainingSettings(model: .tiny, preset: "tiny", steps: steps, batchPerRank: batch, ranks: 1, seed: 11)
        settings.baseLearningRate = lr
        var options = Pretrainer.Options(shards: dir.appendingPathComponent("shards"), run: dir.appendingPathComponent(run),
                                         settings: settings)
        options.loaderWorkers = 1
        options.stallTimeout = nil
        options.fault = nil
        return options
    }

    /// Every tensor of the latest checkpoint: parameters and AdamW moments.
    static func finalTensors(_ run: URL) throws -> [String: [Float]] {
        let file = try CheckpointStore(runDirectory: run).latest().tensors
        var out: [String: [Float]] = [:]
        for name in file.entries.keys { out[name] = try file.floats(name) }
        return out
    }

    @Test func lossFallsOnAShortRun() throws {
        Parallel.configure(threads: 1)
        let dir = try Self.makeDataset()
        defer { try? FileManager.default.removeItem(at: dir) }
        let summary = try Pretrainer(options: Self.options(dir, run: "run", steps: 60), communicator: LocalCommunicator()).run()
        let records = try MetricsLog.read(dir.appendingPathComponent("run/metrics.jsonl"))
        #expect(records.count == 60)
        let losses = records.compactMap { ($0["loss"] as? NSNumber)?.doubleValue }
        let early = losses.prefix(5).reduce(0, +) / 5, late = losses.suffix(10).reduce(0, +) / 10
        #expect(late < 0.85 * early, "loss went from \(early) to \(late)")
        #expect(summary.lastStep == 60)
        #expect(CheckpointStore(runDirectory: dir.appendingPathComponent("run")).completeSteps() == [60])
    }

    /// A run that dies after its step-10 checkpoint and resumes ends bit-identical to one that did not stop.
    @Test func resumeIsBitIdentical() throws {
        Parallel.configure(threads: 1)
        let dir = try Self.makeDataset()
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try Pretrainer(options: Self.options(dir, run: "whole", steps: 16), communicator: LocalCommunicator()).run()

        var interrupted = Self.options(dir, run: "split", steps: 16)
        interrupted.settings.checkpointEvery = 5
        interrupted.fault = FaultInjection(rank: 0, step: 12, kind: .throw)
        #expect(throws: FaultInjection.InjectedFault.self) {
            try Pretrainer(options: interrupted, communicator: LocalCommunicator()).run()
        }
        #expect(CheckpointStore(runDirectory: dir.appendingPathComponent("split")).completeSteps() == [5, 10])
        var resumed = Self.options(dir, run: "split", steps: 16)
        resumed.resume = .latest
        let summary = try Pretrainer(options: resumed, communicator: LocalCommunicator()).run()
        #expect(summary.firstStep == 10 && summary.lastStep == 16)
        let split = try Self.finalTensors(dir.appendingPathComponent("split"))
        let whole = try Self.finalTensors(dir.appendingPathComponent("whole"))
        #expect(split.count == whole.count && split.keys.contains("optimizer.m") && split.count > 10)
        for (name, values) in whole { #expect(split[name] == values, "\(name) differs after resume") }
        // The metrics hold each step once (the steps lost with the process are dropped) and match.
        let wholeLog = try MetricsLog.read(dir.appendingPathComponent("whole/metrics.jsonl"))
        let splitLog = try MetricsLog.read(dir.appendingPathComponent("split/metrics.jsonl"))
        #expect(splitLog.compactMap { ($0["step"] as? NSNumber)?.intValue } == Array(1...16))
        #expect(splitLog.map { $0["loss"] as? NSNumber } == wholeLog.map { $0["loss"] as? NSNumber })
    }

    /// Resume keeps the run's math: a differing explicit setting is refused, naming it; stopping
    /// at or before the checkpoint trains nothing; rolling back past newer checkpoints is refused.
    @Test func resumeGuardsTheRun() throws {
        Parallel.configure(threads: 1)
        let dir = try Self.makeDataset()
        defer { try? FileManager.default.removeItem(at: dir) }
        var first = Self.options(dir, run: "run", steps: 8)
        first.settings.checkpointEvery = 2
        _ = try Pretrainer(options: first, communicator: LocalCommunicator()).run()

        var changed = Self.options(dir, run: "run", steps: 8, lr: 0.2)
        changed.resume = .latest
        changed.explicit = [.learningRate]
        #expect { try Pretrainer(options: changed, communicator: LocalCommunicator()).run() } throws: { "\($0)".contains("--lr") }

        var stopped = Self.options(dir, run: "run", steps: 8)
        stopped.resume = .latest
        stopped.stopAtStep = 3
        let summary = try Pretrainer(options: stopped, communicator: LocalCommunicator()).run()
        #expect(summary.firstStep == 8 && summary.lastStep == 8)

        var rollback = Self.options(dir, run: "run", steps: 8)
        rollback.resume = .path(dir.appendingPathComponent("run/checkpoints/step-00000004"))
        #expect { try Pretrainer(options: rollback, communicator: LocalCommunicator()).run() } throws: { "\($0)".contains("checkpoints after step 4 exist") }

        // A dataset that grew since the checkpoint would reorder the samples: refused.
        let writer = try ShardDatasetWriter(directory: dir.appendingPathComponent("shards"))
        try writer.append(XRaySimulator(config: SimulatorConfig(frames: 12, size: 64, kind: .angio, seed: 4)).sequence(index: 9))
        try writer.finish()
        var grown = Self.options(dir, run: "run", steps: 10)
        grown.resume = .latest
        #expect { try Pretrainer(options: grown, communicator: LocalCommunicator()).run() } throws: { "\($0)".contains("changed since the checkpoint") }
    }

    @Test func nonFiniteLossStopsNamingStepAndCheckpoint() throws {
        Parallel.configure(threads: 1)
        let dir = try Self.makeDataset()
        defer { try? FileManager.default.removeItem(at: dir) }
        var options = Self.options(dir, run: "run", steps: 20)
        options.settings.checkpointEvery = 5
        options.fault = FaultInjection(rank: 0, step: 7, kind: .nan)
        do {
            _ = try Pretrainer(options: options, communicator: LocalCommunicator()).run()
            Issue.record("a NaN loss must stop the run")
        } catch let error as TrainingError {
            let text = "\(error)"
            #expect(text.contains("step 7"))
            #expect(text.contains("step-00000005"))
        }
    }

    @Test func freshRunRefusesADirectoryWithCheckpoints() throws {
        Parallel.configure(threads: 1)
        let dir = try Self.makeDataset()
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try Pretrainer(options: Self.options(dir, run: "run", steps: 2), communicator: LocalCommunicator()).run()
        #expect(throws: TrainingError.self) {
            try Pretrainer(options: Self.options(dir, run: "run", steps: 2), communicator: LocalCommunicator()).run()
        }
    }

    @Test func exportedEncoderHasVideoMAENamesAndPassesTheCheck() throws {
        Parallel.configure(threads: 1)
        let dir = try Self.makeDataset()
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try Pretrainer(options: Self.options(dir, run: "run", steps: 2), communicator: LocalCommunicator()).run()
        let checkpoint = try CheckpointStore(runDirectory: dir.appendingPathComponent("run")).latest()
        let out = dir.appendingPathComponent("encoder.safetensors")
        let count = try EncoderExport.export(checkpoint: checkpoint, to: out)
        #expect(count == 4 + 13 * ModelConfig.tiny.depth)  // patch embed + norm, 13 per block
        #expect(try EncoderExport.check(out) == .tiny)
        let file = try SafetensorsFile(contentsOf: out)
        #expect(try file.entry("encoder.patch_embed.proj.weight").shape == [32, 1, 2, 8, 8])
        #expect(file.entries.keys.allSatisfy { $0.hasPrefix("encoder.") })
        // A file missing a tensor fails the check, naming it.
        var broken = SafetensorsWriter(metadata: file.metadata)
        for (name, entry) in file.entries where name != "encoder.norm.bias" { broken.add(name, shape: entry.shape, floats: try file.floats(name)) }
        try broken.encoded().write(to: out)
        #expect { try EncoderExport.check(out) } throws: { "\($0)".contains("missing tensor encoder.norm.bias") }
    }
}
