import FluoroDistributed
import FluoroModel
import FluoroShards
import FluoroSupport
import FluoroTensor
import FluoroTraining
import Foundation
import Testing
@testable import FluoroTracking

/// Fine-tuning: the sample stream is rank-independent, a resumed run lands on the same bits as an
/// uninterrupted one, bad data and encoders are clear errors.
@Suite(.serialized) struct FinetunerTests {
    static func settings(steps: Int, batch: Int = 2, target: FinetuneSettings.Target = .tracker) -> FinetuneSettings {
        var c = HiFTConfig.tiny
        c.landmarks = 1
        var s = FinetuneSettings(config: c, task: .tip, steps: steps, batchPerRank: batch, ranks: 1, seed: 3)
        s.target = target
        return s
    }

    static func scratch() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("fluoro-ft-\(UUID().uuidString)")
    }

    /// A resume keeps the global batch and re-splits it over the ranks it runs on; a rank count
    /// that does not divide it, or a budget below the checkpoint's step, is a clear error.
    @Test func resumeResplitsTheGlobalBatchOrSaysWhyNot() throws {
        var saved = FinetuneSettings(config: .tiny, task: .tip, steps: 10, batchPerRank: 2, ranks: 2, seed: 1)
        saved.checkpointEvery = 5
        let two = try saved.resumed(at: 4, steps: 20, checkpointEvery: nil, ranks: 4, run: "r")
        #expect(two.batchPerRank == 1 && two.ranks == 4 && two.globalBatch == 4 && two.steps == 20 && two.checkpointEvery == 5)
        #expect(try saved.resumed(at: 4, steps: nil, checkpointEvery: 2, ranks: 1, run: "r").batchPerRank == 4)
        #expect { try saved.resumed(at: 4, steps: nil, checkpointEvery: nil, ranks: 3, run: "r") } throws: {
            "\($0)".contains("global batch 4 does not divide over 3 ranks")
        }
        #expect { try saved.resumed(at: 8, steps: 6, checkpointEvery: nil, ranks: 2, run: "r") } throws: {
            "\($0)".contains("past --steps 6")
        }
    }

    @Test func samplesDoNotDependOnHowTheBatchIsSplit() throws {
        let dataset = try TrackingEvaluatorTests.makeDataset(runs: 2, frames: 10, size: 64)
        defer { try? FileManager.default.removeItem(at: dataset.directory) }
        let sampler = try TrackingSampler(dataset: dataset, config: Self.settings(steps: 1).config, task: .tip)
        let whole = try sampler.batch(first: 4, count: 4, seed: 9)
        let a = try sampler.batch(first: 4, count: 2, seed: 9), b = try sampler.batch(first: 6, count: 2, seed: 9)
        #expect(whole.windows == a.windows + b.windows)
        #expect(whole.past.elementsEqual(a.past + b.past) { $0 == $1 || ($0.isNaN && $1.isNaN) })
        #expect(whole.current == a.current + b.current)
        #expect(whole.catheterMasks == a.catheterMasks + b.catheterMasks && whole.hasCatheterMask.allSatisfy { $0 })
        let threaded = try Parallel.withThreads(2) { try sampler.batch(first: 4, count: 4, seed: 9) }
        #expect(threaded.windows == whole.windows && threaded.current == whole.current)
        let other = try sampler.batch(first: 4, count: 4, seed: 10)
        #expect(other.windows != whole.windows)
        // Standardised windows, landmarks near the crop (offset at most Sc/2 - 15 Sc/128 plus motion).
        let n = Float(whole.windows.count) / 4
        let first = whole.windows.prefix(Int(n))
        #expect(abs(first.reduce(0, +) / n) < 1e-3)
        for v in whole.current { #expect(v > -8 && v < 40) }
    }

    @Test func resumedRunEqualsUninterruptedRun() throws {
        Parallel.configure(threads: 1)
        let dataset = try TrackingEvaluatorTests.makeDataset(runs: 2, frames: 10, size: 64)
        defer { try? FileManager.default.removeItem(at: dataset.directory) }
        let straight = Self.scratch(), split = Self.scratch()
        defer { try? FileManager.default.removeItem(at: straight); try? FileManager.default.removeItem(at: split) }
        var options = Finetuner.Options(shards: dataset.directory, run: straight, settings: Self.settings(steps: 6))
        _ = try Finetuner(options: options, communicator: LocalCommunicator()).run()
        options.run = split
        options.stopAt = 3
        let first = try Finetuner(options: options, communicator: LocalCommunicator()).run()
        #expect(first.lastStep == 3)
        options.stopAt = nil
        options.resume = true
        let second = try Finetuner(options: options, communicator: LocalCommunicator()).run()
        #expect(second.firstStep == 3 && second.lastStep == 6)
        let a = try FinetuneRun.loadTracker(run: straight), b = try FinetuneRun.loadTracker(run: split)
        #expect(a.model.parameters.values.array == b.model.parameters.values.array)
        let metrics = try MetricsLog.read(split.appendingPathComponent("metrics.jsonl"))
        #expect(metrics.compactMap { ($0["step"] as? NSNumber)?.intValue } == Array(1...6))
        // TensorBoard: a second event file after the resume; every step's loss once.
        let files = TensorBoardWriter.eventFiles(in: split.appendingPathComponent("tensorboard"))
        #expect(files.count == 2)
        let steps = try files.flatMap { try TensorBoardWriter.read($0) }.compactMap { event -> Int? in
            guard case let .summary(values) = event.payload, values.contains(where: { $0.tag == "train/loss" }) else { return nil }
            return Int(event.step)
        }
        #expect(steps.sorted() == Array(1...6))
    }

    @Test func trainingLowersTheLossOnARepeatedBatch() throws {
        Parallel.configure(threads: 1)
        let dataset = try TrackingEvaluatorTests.makeDataset(runs: 1, frames: 8, size: 64)
        defer { try? FileManager.default.removeItem(at: dataset.directory) }
        let s = Self.settings(steps: 1)
        let model = HiFT(config: s.config, batch: 2, seed: 1)
        let batch = try TrackingSampler(dataset: dataset, config: s.config, task: .tip).batch(first: 0, count: 2, seed: 1)
        let optimizer = AdamW(count: model.parameters.values.count)
        let decays = model.parameters.views.filter(\.decays).map { $0.offset..<($0.offset + $0.count) }
        let before = try model.forwardBackward(batch).total
        for _ in 0..<15 {
            _ = try model.forwardBackward(batch)
            optimizer.step(parameters: model.parameters.values.buffer, gradients: UnsafeBufferPointer(model.parameters.gradients.buffer),
                           decayRanges: decays, learningRate: 1e-3)
        }
        #expect(try model.forwardBackward(batch).total < before - 0.05)
    }

    @Test func frozenEncoderStaysPut() throws {
        Parallel.configure(threads: 1)
        let dataset = try TrackingEvaluatorTests.makeDataset(runs: 1, frames: 8, size: 64)
        defer { try? FileManager.default.removeItem(at: dataset.directory) }
        let run = Self.scratch()
        defer { try? FileManager.default.removeItem(at: run) }
        var s = Self.settings(steps: 2)
        s.encoderRateScale = 0
        _ = try Finetuner(options: .init(shards: dataset.directory, run: run, settings: s), communicator: LocalCommunicator()).run()
        let trained = try FinetuneRun.loadTracker(run: run).model.parameters
        let initial = HiFT(config: s.config, batch: 1, seed: s.seed).parameters
        #expect(trained.valueArray("encoder.blocks.0.attn.qkv.weight") == initial.valueArray("encoder.blocks.0.attn.qkv.weight"))
        #expect(trained.valueArray("decoder.blocks.0.mlp.fc1.weight") != initial.valueArray("decoder.blocks.0.mlp.fc1.weight"))
    }

    /// `--clip-grad`: the update sees the gradients times min(1, maxNorm / norm) and the norm is
    /// logged. With a tiny bound Adam's step shrinks to almost nothing (the scaled gradients fall
    /// below its epsilon); without clipping no norm is logged.
    @Test func clippingScalesTheUpdateAndLogsTheNorm() throws {
        Parallel.configure(threads: 1)
        let dataset = try TrackingEvaluatorTests.makeDataset(runs: 1, frames: 8, size: 64)
        defer { try? FileManager.default.removeItem(at: dataset.directory) }
        func train(clip: Float?) throws -> (change: Float, metrics: String) {
            let run = Self.scratch()
            defer { try? FileManager.default.removeItem(at: run) }
            var s = Self.settings(steps: 3)
            s.clipGradientNorm = clip
            _ = try Finetuner(options: .init(shards: dataset.directory, run: run, settings: s), communicator: LocalCommunicator()).run()
            let name = "decoder.blocks.0.mlp.fc1.weight"
            let trained = try FinetuneRun.loadTracker(run: run).model.parameters.valueArray(name)
            let initial = HiFT(config: s.config, batch: 1, seed: s.seed).parameters.valueArray(name)
            let change = zip(trained, initial).map { abs($0 - $1) }.max()!
            return (change, try String(contentsOf: run.appendingPathComponent("metrics.jsonl"), encoding: .utf8))
        }
        let free = try train(clip: nil), loose = try train(clip: 1e9), tight = try train(clip: 1e-12)
        #expect(!free.metrics.contains("grad_norm") && loose.metrics.contains("grad_norm"))
        #expect(loose.change == free.change, "a bound above the norm changes nothing")
        #expect(tight.change < 0.05 * free.change, "clipped \(tight.change), free \(free.change)")
        let norms = loose.metrics.split(separator: "\n").compactMap { line -> Double? in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["grad_norm"] as? Double
        }
        #expect(norms.count == 3 && norms.allSatisfy { $0 > 0 && $0.isFinite })
    }

    /// Tracker and detector trained, exported, loaded, tracking and detecting; with
    /// `headImageSkip` too (the wider head convs load and run).
    @Test(arguments: [false, true]) func detectorTrainsAndLoadsWithTheTracker(headImageSkip: Bool) throws {
        Parallel.configure(threads: 1)
        let dataset = try TrackingEvaluatorTests.makeDataset(runs: 1, frames: 8, size: 64)
        defer { try? FileManager.default.removeItem(at: dataset.directory) }
        let run = Self.scratch()
        defer { try? FileManager.default.removeItem(at: run) }
        var tracker = Self.settings(steps: 2), detector = Self.settings(steps: 2, target: .detector)
        tracker.config.headImageSkip = headImageSkip; detector.config.headImageSkip = headImageSkip
        _ = try Finetuner(options: .init(shards: dataset.directory, run: run, settings: tracker), communicator: LocalCommunicator()).run()
        _ = try Finetuner(options: .init(shards: dataset.directory, run: FinetuneRun.detectorRun(of: run), settings: detector),
                          communicator: LocalCommunicator()).run()
        let file = run.appendingPathComponent("tracker.safetensors")
        try FinetuneRun.export(run: run, to: file)
        let loaded = try TrackerFile.load(file)
        #expect((loaded.config.headImageSkip == true) == headImageSkip)
        #expect(loaded.model.parameters["heatmap_head.convs.1.weight"]?.shape[1] == tracker.config.headChannels[0] + (headImageSkip ? 1 : 0))
        let frame = TrackingFrame(pixels: (0..<(64 * 64)).map { Float($0 % 64) / 64 }, width: 64, height: 64)
        let hift = HiFTTracker(model: loaded.model)
        try hift.start(first: frame, landmarks: [Point2(x: 30, y: 30)])
        let estimates = try (0..<3).map { _ in try hift.track(frame) }
        #expect(estimates.allSatisfy { $0.count == 1 && $0[0].point.x.isFinite })
        let points = try HiFTLandmarkDetector(detector: try #require(loaded.detector)).detect(first: frame, count: 1)
        #expect(points.count == 1 && (0...64).contains(points[0].x))
    }

    @Test func datasetsWithoutTheTaskAndShortRunsAreClearErrors() throws {
        let dataset = try TrackingEvaluatorTests.makeDataset(runs: 1, frames: 3, size: 64)
        defer { try? FileManager.default.removeItem(at: dataset.directory) }
        #expect(throws: TrackingDataError.self) { try TrackingSampler(dataset: dataset, config: Self.settings(steps: 1).config, task: .tip) }
        do {
            _ = try TrackingSampler(dataset: dataset, config: Self.settings(steps: 1).config, task: .tip)
        } catch {
            #expect("\(error)".contains("window is 4 frames") && "\(error)".contains("longest annotated run has 3"))
        }
        let noBalloon = try TrackingEvaluatorTests.makeDataset(runs: 1, frames: 6, size: 64, balloonProbability: 0)
        defer { try? FileManager.default.removeItem(at: noBalloon.directory) }
        var markers = HiFTConfig.tiny
        markers.landmarks = 2
        #expect(throws: TrackingDataError.self) { try TrackingSampler(dataset: noBalloon, config: markers, task: .markers) }
    }

    @Test func anEncoderOfAnotherShapeIsRefused() throws {
        let dataset = try TrackingEvaluatorTests.makeDataset(runs: 1, frames: 8, size: 64)
        defer { try? FileManager.default.removeItem(at: dataset.directory) }
        let run = Self.scratch(), encoder = Self.scratch().appendingPathExtension("safetensors")
        defer { try? FileManager.default.removeItem(at: run); try? FileManager.default.removeItem(at: encoder) }
        // An encoder export of the bench pretraining shape (width 192) for a tiny tracker (width 32).
        let pretrain = FluoroModel.ViTEncoder(config: .bench, batch: 1)
        var writer = SafetensorsWriter(metadata: ["config": String(decoding: try JSONEncoder().encode(FluoroModel.ModelConfig.bench), as: UTF8.self)])
        pretrain.parameters.write(into: &writer)
        try writer.encoded().write(to: encoder)
        var options = Finetuner.Options(shards: dataset.directory, run: run, settings: Self.settings(steps: 1))
        options.encoder = encoder
        #expect { try Finetuner(options: options, communicator: LocalCommunicator()).run() } throws: { error in
            "\(error)".contains("width 192 in the encoder, 32 in the tracker")
        }
    }
}
