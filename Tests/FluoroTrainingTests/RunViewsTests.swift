import FluoroDistributed
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
    }
}
