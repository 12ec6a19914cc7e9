import FluoroDistributed
import FluoroModel
import FluoroShards
import FluoroTensor
import Foundation
import Testing
@testable import FluoroTraining

/// What a pretraining run leaves to watch: TensorBoard event files (scalars every step, a new
/// file after a resume) and reconstruction panels at checkpoints.
@Suite(.serialized) struct RunViewsTests {
    /// Scalars per step and image steps over the event files of a directory, applying
    /// TensorBoard's rule for a SessionLog START: earlier events at or after its step are dropped.
    static func readBack(_ dir: URL) throws -> (scalars: [Int: [String: Float]], images: [Int], files: [[TensorBoardEvent]]) {
        var scalars: [Int: [String: Float]] = [:], images: Set<Int> = []
        let files = try TensorBoardWriter.eventFiles(in: dir).map(TensorBoardWriter.read)
        for events in files {
            for event in events {
                let step = Int(event.step)
                switch event.payload {
                case .fileVersion: continue
                case .sessionStart:
                    scalars = scalars.filter { $0.key < step }
                    images = images.filter { $0 < step }
                case .summary(let values):
                    for value in values {
                        switch value {
                        case let .scalar(tag, x):
                            #expect(scalars[step]?[tag] == nil, "step \(step) \(tag) written twice in one history")
                            scalars[step, default: [:]][tag] = x
                        case .image(_, let image):
                            #expect(image.png.starts(with: [0x89, 0x50, 0x4E, 0x47]) && image.width > 0 && image.height > 0)
                            images.insert(step)
                        }
                    }
                }
            }
        }
        return (scalars, images.sorted(), files)
    }

    @Test func interruptedAndResumedRunLeavesReadableEventFilesAndPanels() throws {
        Parallel.configure(threads: 1)
        let dir = try PretrainerTests.makeDataset()
        defer { try? FileManager.default.removeItem(at: dir) }
        var interrupted = PretrainerTests.options(dir, run: "run", steps: 12)
        interrupted.settings.checkpointEvery = 5
        interrupted.settings.clipGradientNorm = 1
        interrupted.panelClips = 2
        interrupted.fault = FaultInjection(rank: 0, step: 8, kind: .throw)
        #expect(throws: FaultInjection.InjectedFault.self) {
            try Pretrainer(options: interrupted, communicator: LocalCommunicator()).run()
        }
        var resumed = interrupted
        resumed.fault = nil
        resumed.resume = .latest
        _ = try Pretrainer(options: resumed, communicator: LocalCommunicator()).run()

        let run = dir.appendingPathComponent("run")
        let (scalars, images, files) = try Self.readBack(run.appendingPathComponent("tensorboard"))
        #expect(files.count == 2)
        #expect(files.allSatisfy { $0.first?.payload == .fileVersion("brain.Event:2") })
        #expect(files[1].dropFirst().first.map { $0.payload == .sessionStart && $0.step == 6 } == true)
        #expect(scalars.keys.sorted() == Array(1...12))
        let tags: Set = ["train/loss", "train/loss_rec", "train/loss_ves", "train/lr", "train/grad_norm",
                         "perf/clips_per_second", "perf/comm_share"]
        #expect(scalars.values.allSatisfy { Set($0.keys) == tags })
        let metrics = try MetricsLog.read(run.appendingPathComponent("metrics.jsonl"))
        for line in metrics {
            let step = (line["step"] as! NSNumber).intValue
            #expect(scalars[step]?["train/loss"] == (line["loss"] as! NSNumber).floatValue, "step \(step)")
        }
        #expect(images == [5, 10, 12])
        let pngs = try FileManager.default.contentsOfDirectory(atPath: run.appendingPathComponent("images").path).sorted()
        #expect(pngs == ["step-10.png", "step-12.png", "step-5.png"])
        try checkReportAndReconstruct(run: run, shards: dir.appendingPathComponent("shards"))
    }

    /// The report page of the run embeds its plots and newest panel and lists its checkpoints;
    /// `ReconstructionViews.panel` redraws a checkpoint's panel for a chosen sequence.
    func checkReportAndReconstruct(run: URL, shards: URL) throws {
        let out = run.appendingPathComponent("report.html")
        let written = try RunReport.write(run: run, out: out)
        #expect(written.map(\.lastPathComponent) == ["report.html", "report-loss.png", "report-throughput.png"])
        let html = try String(contentsOf: out, encoding: .utf8)
        #expect(html.components(separatedBy: "src=\"data:image/png;base64,").count - 1 == 3)
        #expect(html.contains("Reconstruction at step 12"))
        #expect(html.contains("<td class=\"n\">10</td>") && html.contains("<td class=\"n\">12</td>"))
        let checkpoint = try CheckpointStore(runDirectory: run).latest()
        let one = try ReconstructionViews.panel(checkpoint: checkpoint, source: ShardDataset(directory: shards), sequences: [4], name: "shards")
        let two = try ReconstructionViews.panel(checkpoint: checkpoint, source: ShardDataset(directory: shards), sequences: [4, 5], name: "shards")
        #expect(one.width == two.width && two.height > one.height)
        #expect(throws: ReconstructionError.sequenceOutOfRange(sequence: 9, count: 6)) {
            try ReconstructionViews.panel(checkpoint: checkpoint, source: ShardDataset(directory: shards), sequences: [9], name: "shards")
        }
    }

    /// Tokens back to frames is the inverse of `Tokens.patchify`, and a hidden token predicted as
    /// its own normalised target comes back as its pixels.
    @Test func unpatchifyInvertsPatchifyAndDenormalisingUndoesTheTarget() {
        Parallel.configure(threads: 1)
        let c = ModelConfig.tiny
        let clips = (0..<(2 * c.frames * c.size * c.size)).map { Float(($0 * 7919) % 1013) / 1013 }
        let tokens = Reconstruction.patchify(clips, c, batch: 2)
        #expect(Reconstruction.unpatchify(tokens, c, batch: 2) == clips)
        var target = [Float](repeating: 0, count: tokens.count)
        target.withUnsafeMutableBufferPointer { t in
            tokens.withUnsafeBufferPointer { Losses.normalisedTarget(out: t.baseAddress!, patches: $0.baseAddress!, rows: 2 * c.tokens, values: c.tokenValues) }
        }
        var mask = [UInt8](repeating: 0, count: 2 * c.tokens)
        mask[3] = 1; mask[c.tokens + 1] = 1
        var withTruth = tokens
        Reconstruction.denormaliseHidden(&withTruth, prediction: target, mask: mask, values: c.tokenValues)
        for (a, b) in zip(withTruth, tokens) { #expect(abs(a - b) < 1e-4) }
        var shifted = tokens
        Reconstruction.denormaliseHidden(&shifted, prediction: target.map { $0 + 1 }, mask: mask, values: c.tokenValues)
        #expect(shifted[3 * c.tokenValues] > tokens[3 * c.tokenValues] && shifted[0] == tokens[0])
    }
}
