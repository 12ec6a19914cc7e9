import FluoroShards
import FluoroSim
import Foundation
import Testing
@testable import FluoroTracking

/// The evaluator end to end on small simulator datasets written as shards.
@Suite struct TrackingEvaluatorTests {
    /// A fresh dataset of `runs` fluoroscopy runs of `frames` frames at `size` px; the caller removes it.
    static func makeDataset(runs: Int = 2, frames: Int = 12, size: Int = 96, balloonProbability: Double = 1,
                            seed: UInt64 = 5) throws -> ShardDataset {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fluoro-eval-\(UUID().uuidString)")
        let config = SimulatorConfig(frames: frames, size: size, kind: .fluoro, seed: seed,
                                     balloonProbability: balloonProbability)
        let writer = try ShardDatasetWriter(directory: dir)
        for i in 0 ..< runs { try writer.append(XRaySimulator(config: config).sequence(index: i)) }
        try writer.finish()
        return try ShardDataset(directory: dir)
    }

    /// A detector that answers fixed points (automatic initialisation without a model).
    final class FixedDetector: LandmarkDetector {
        let points: [Point2]
        init(_ points: [Point2]) { self.points = points }
        func detect(first: TrackingFrame, count: Int) throws -> [Point2] { Array(points.prefix(count)) }
    }

    @Test func nccBeatsStillOnSimulatedTips() throws {
        let dataset = try Self.makeDataset()
        defer { try? FileManager.default.removeItem(at: dataset.directory) }
        let evaluator = TrackingEvaluator(task: .tip)
        let ncc = try evaluator.evaluate(NCCTracker(), on: dataset)
        let still = try evaluator.evaluate(StillTracker(), on: dataset)
        #expect(ncc.records.count == 2 * 12 && ncc.trackedFrames == 2 * 11)
        #expect(ncc.records.filter { $0.frame == 0 }.allSatisfy { $0.errorPx == 0 && $0.initialisation == .manual })
        let nccAll = try #require(ncc.summary.group(.tip)), stillAll = try #require(still.summary.group(.tip))
        #expect(nccAll.frames == 22 && nccAll.runs == 2)
        #expect(nccAll.mm != nil, "the simulator states its pixel spacing")
        #expect(nccAll.px.mean < stillAll.px.mean, "ncc \(nccAll.px.mean) px vs still \(stillAll.px.mean) px")
        #expect(stillAll.px.mean > 0.5, "the simulated tips move")
        #expect(ncc.fps > 0 && ncc.method == "ncc")
    }

    @Test func oneStepErrorsAreEachFramesMotionForStill() throws {
        let dataset = try Self.makeDataset(runs: 1, frames: 8)
        defer { try? FileManager.default.removeItem(at: dataset.directory) }
        var evaluator = TrackingEvaluator(task: .tip)
        evaluator.oneStep = true
        let oneStep = try evaluator.evaluate(StillTracker(), on: dataset)
        let online = try TrackingEvaluator(task: .tip).evaluate(StillTracker(), on: dataset)
        #expect(oneStep.method == "still-1step" && online.method == "still")
        let truth = online.records.sorted { $0.frame < $1.frame }.map(\.truth)
        for r in oneStep.records where r.frame > 0 {
            // Held at the previous frame's truth: the error is exactly the motion of one frame.
            #expect(r.estimate == truth[r.frame - 1])
        }
        let motion = try #require(oneStep.summary.group(.tip)).px.mean, drift = try #require(online.summary.group(.tip)).px.mean
        #expect(motion < drift, "one frame's motion \(motion) px vs drift from frame 0 \(drift) px")
    }

    @Test func markersAreTrackedAsTwoLandmarks() throws {
        let dataset = try Self.makeDataset(runs: 1, frames: 6, size: 64)
        defer { try? FileManager.default.removeItem(at: dataset.directory) }
        let result = try TrackingEvaluator(task: .markers).evaluate(StillTracker(), on: dataset)
        #expect(Set(result.records.map(\.landmark)) == [0, 1])
        #expect(result.records.allSatisfy { $0.kind == .marker })
    }

    @Test func automaticInitialisationIsRecordedApart() throws {
        let dataset = try Self.makeDataset(runs: 1, frames: 5, size: 64)
        defer { try? FileManager.default.removeItem(at: dataset.directory) }
        let detector = FixedDetector([Point2(x: 1, y: 1)])
        let result = try TrackingEvaluator(task: .tip, detector: detector).evaluate(StillTracker(), on: dataset)
        #expect(result.records.allSatisfy { $0.initialisation == .auto })
        #expect(result.records.allSatisfy { $0.estimate == Point2(x: 1, y: 1) })
        #expect(result.summary.group(.tip, .auto) != nil && result.summary.group(.tip, .manual) == nil)
    }

    @Test func datasetWithoutTheTaskIsAClearError() throws {
        let dataset = try Self.makeDataset(runs: 1, frames: 3, size: 48, balloonProbability: 0)
        defer { try? FileManager.default.removeItem(at: dataset.directory) }
        do {
            _ = try TrackingEvaluator(task: .markers).evaluate(StillTracker(), on: dataset)
            Issue.record("a dataset without balloons evaluated for markers")
        } catch let error as EvaluationError {
            #expect(error.description.contains(dataset.directory.path))
            #expect(error.description.contains("--task markers"))
        }
    }

    @Test func storedPixelsAreScaledByBitDepth() {
        let info = SequenceInfo(id: "u16", frameCount: 2, width: 2, height: 1, pixelFormat: .uint16, bitsStored: 12,
                                modality: "XA", source: "test")
        // Frame 1 holds 4095 (0x0FFF) and 0, little endian.
        let stored = Data([0, 0, 0, 0, 0xFF, 0x0F, 0, 0])
        #expect(TrackingFrame(stored: stored, index: 1, info: info).pixels == [1, 0])
        let info8 = SequenceInfo(id: "u8", frameCount: 1, width: 2, height: 1, pixelFormat: .uint8, bitsStored: 8,
                                 modality: "XA", source: "test")
        let scaled = TrackingFrame(stored: Data([255, 51]), index: 0, info: info8).pixels
        #expect(scaled[0] == 1 && abs(scaled[1] - 0.2) < 1e-6)
    }
}
