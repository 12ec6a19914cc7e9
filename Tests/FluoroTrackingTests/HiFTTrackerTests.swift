import FluoroShards
import FluoroTensor
import Foundation
import Testing
@testable import FluoroTracking

/// The online tracker's rules: padding at the start of a run, the crop that stays put until an
/// estimate nears its border, landmark assignment, lost frames, bad start points; and geometry.
@Suite struct HiFTTrackerTests {
    static func frame(_ side: Int, _ value: (Int, Int) -> Float = { _, _ in 0.5 }) -> TrackingFrame {
        TrackingFrame(pixels: (0..<(side * side)).map { value($0 % side, $0 / side) }, width: side, height: side)
    }

    @Test func windowIsPaddedWithTheFirstFrameAndEstimate() throws {
        var c = HiFTConfig.tiny
        c.landmarks = 1
        let tracker = HiFTTracker(model: HiFT(config: c, batch: 1))
        // 64-px frames: working scale 1 (crop 32 = half the side); each frame a different constant.
        try tracker.start(first: Self.frame(64) { x, _ in Float(x) / 64 }, landmarks: [Point2(x: 20.5, y: 30.5)])
        tracker.frames.append(tracker.scale.resize(Self.frame(64) { _, y in Float(y) / 64 }))
        tracker.fillWindow(origin: (4, 14))
        let P = 32 * 32
        // Frames 0..2 of the window repeat the first frame; frame 3 is the new one.
        for f in 1..<3 { #expect(Array(UnsafeBufferPointer(start: tracker.window.pointer + f * P, count: P)) == Array(UnsafeBufferPointer(start: tracker.window.pointer, count: P))) }
        #expect(Array(UnsafeBufferPointer(start: tracker.window.pointer + 3 * P, count: P)) != Array(UnsafeBufferPointer(start: tracker.window.pointer, count: P)))
        // Past estimates: the first estimate, in crop coordinates (index convention: 20.5 - 0.5 - 4).
        for f in 0..<3 { #expect(tracker.past[2 * f] == 16 && tracker.past[2 * f + 1] == 16) }
    }

    @Test func cropStaysPutUntilAnEstimateNearsItsBorder() throws {
        var c = HiFTConfig.tiny
        c.landmarks = 1
        let tracker = HiFTTracker(model: HiFT(config: c, batch: 1))
        try tracker.start(first: Self.frame(64), landmarks: [Point2(x: 32.5, y: 32.5)])
        let origin = CropWindow.origin(centreX: tracker.centre.x, centreY: tracker.centre.y, crop: 32)
        tracker.updateCrop(origin: origin, estimates: [(x: 40, y: 32)])  // 8 px from the centre: stays
        #expect(tracker.centre.x == 32 && tracker.centre.y == 32)
        tracker.updateCrop(origin: origin, estimates: [(x: 45, y: 32)])  // within 32·30/256 = 3.75 px of the border
        #expect(tracker.centre.x == 45 && tracker.centre.y == 32)
    }

    @Test func correctionReplacesTheLastEstimateAndMovesTheCropByItsRule() throws {
        var c = HiFTConfig.tiny
        c.landmarks = 1
        let tracker = HiFTTracker(model: HiFT(config: c, batch: 1))
        try tracker.start(first: Self.frame(64), landmarks: [Point2(x: 32.5, y: 32.5)])
        tracker.correct(to: [Point2(x: 40.5, y: 32.5)])  // inside the crop's margin: the crop stays
        #expect(tracker.estimates.last![0].x == 40 && tracker.estimates.last![0].y == 32)
        #expect(tracker.centre.x == 32 && tracker.centre.y == 32)
        tracker.correct(to: [Point2(x: 45.5, y: 32.5)])  // near the border: the crop re-centres on it
        #expect(tracker.centre.x == 45 && tracker.centre.y == 32)
        #expect(tracker.estimates.count == 1, "a correction replaces, it does not append")
        _ = try tracker.track(Self.frame(64))
        tracker.correct(to: [Point2(x: 44.5, y: 30.5)])
        #expect(tracker.estimates.count == 2 && tracker.estimates[1][0].x == 44 && tracker.estimates[1][0].y == 30)
    }

    @Test func markersAreAssignedToTheNearerPreviousEstimates() {
        let previous: [(x: Float, y: Float)] = [(10, 10), (30, 30)]
        let swapped = HiFTTracker.assign([(29, 31), (11, 9)], to: previous)
        #expect(swapped[0]! == (11, 9) && swapped[1]! == (29, 31))
        let one = HiFTTracker.assign([(28, 28), nil], to: previous)
        #expect(one[0] == nil && one[1]! == (28, 28))
        #expect(HiFTTracker.assign([nil], to: [(5, 5)])[0] == nil)
    }

    @Test func trackingRunsOnlineAndFlagsNothingFoundAsLost() throws {
        var c = HiFTConfig.tiny
        c.landmarks = 1
        let model = HiFT(config: c, batch: 1)
        // Drive the heatmap to "nothing": the output conv's bias far negative.
        model.parameters.value("heatmap_head.out.bias").pointee = -50
        let tracker = HiFTTracker(model: model)
        try tracker.start(first: Self.frame(64), landmarks: [Point2(x: 20, y: 20)])
        for _ in 0..<5 {
            let e = try tracker.track(Self.frame(64))
            #expect(e.count == 1 && e[0].lost && e[0].point == Point2(x: 20, y: 20))
        }
    }

    /// `keepsHeatmap` keeps what the read-out saw: the current frame's crop at the crop's origin
    /// and sigmoid(logits), whose peak lies within the 5x5 centroid window of the estimate.
    @Test func theKeptHeatmapIsWhatTheReadOutSaw() throws {
        var c = HiFTConfig.tiny
        c.landmarks = 1
        let model = HiFT(config: c, batch: 1, seed: 4)
        let quiet = HiFTTracker(model: model)
        try quiet.start(first: Self.frame(64), landmarks: [Point2(x: 30, y: 26)])
        _ = try quiet.track(Self.frame(64))
        #expect(quiet.lastHeatmap == nil, "off by default")
        let tracker = HiFTTracker(model: model)
        tracker.keepsHeatmap = true
        let ramp = Self.frame(64) { x, y in Float(x + 2 * y) / 192 }
        try tracker.start(first: ramp, landmarks: [Point2(x: 30, y: 26)])
        let origin = CropWindow.origin(centreX: tracker.centre.x, centreY: tracker.centre.y, crop: 32)
        let e = try tracker.track(ramp)
        let heat = try #require(tracker.lastHeatmap)
        #expect(heat.origin == origin && heat.side == 32 && heat.probabilities.count == 32 * 32)
        #expect(heat.probabilities.allSatisfy { $0 > 0 && $0 < 1 })
        // The crop of a ramp, standardised: it rises by one step per pixel right, two per pixel down.
        #expect(abs((heat.frame[1] - heat.frame[0]) * 2 - (heat.frame[32] - heat.frame[0])) < 1e-4 && heat.frame[1] > heat.frame[0])
        guard !e[0].lost else { return }
        let peak = heat.probabilities.indices.max { heat.probabilities[$0] < heat.probabilities[$1] }!
        let w = tracker.workingEstimates[0]
        #expect(abs(w.x - Float(origin.x) - Float(peak % 32)) <= 2 && abs(w.y - Float(origin.y) - Float(peak / 32)) <= 2)
    }

    @Test func badStartPointsAreClearErrors() {
        var c = HiFTConfig.tiny
        c.landmarks = 2
        let tracker = HiFTTracker(model: HiFT(config: c, batch: 1))
        #expect(throws: TrackingInputError.wrongLandmarkCount(expected: 2, got: 1)) { try tracker.start(first: Self.frame(64), landmarks: [Point2(x: 1, y: 1)]) }
        #expect(throws: TrackingInputError.outsideFrame(x: 70, y: 1, width: 64, height: 64)) {
            try tracker.start(first: Self.frame(64), landmarks: [Point2(x: 70, y: 1), Point2(x: 2, y: 2)])
        }
        #expect(throws: TrackingInputError.notStarted) { try HiFTTracker(model: HiFT(config: c, batch: 1)).track(Self.frame(64)) }
    }

    @Test func workingScaleHalvesByAveragingAndMapsPoints() {
        let scale = WorkingScale(width: 128, height: 128, crop: 32)  // 64-px working frames
        #expect(scale.factor == 0.5 && scale.width == 64)
        let frame = Self.frame(128) { x, y in Float((x / 2 + y / 2) % 2) + Float(x % 2) * 0.5 }
        let small = scale.resize(frame)
        #expect(abs(small.pixels[0] - 0.25) < 1e-6)  // mean of 0, 0.5, 0, 0.5
        let p = scale.toWorking(Point2(x: 10, y: 20))
        #expect(p.x == 4.5 && p.y == 9.5)
        #expect(scale.toFrame(x: p.x, y: p.y) == Point2(x: 10, y: 20))
    }
}

/// The read-out's optional motion prior: of two equal candidates the one near the previous estimate
/// wins; without it the tie goes to the smaller (y, x) as METHOD §10's read-out.
@Suite struct MotionPriorTests {
    @Test func theCandidateNearThePastWins() {
        let S = 32
        var logits = [Float](repeating: -10, count: S * S)
        for (x, y) in [(5, 5), (25, 20)] { logits[y * S + x] = 4 }
        let plain = logits.withUnsafeBufferPointer { HeatmapReadOut.landmarks(logits: $0.baseAddress!, height: S, width: S, count: 1) }
        #expect(abs(plain[0]!.x - 5) < 0.01 && abs(plain[0]!.y - 5) < 0.01)
        let prior = HeatmapReadOut.MotionPrior(previous: [(x: 23, y: 21)], sigma: 8)
        let near = logits.withUnsafeBufferPointer {
            HeatmapReadOut.landmarks(logits: $0.baseAddress!, height: S, width: S, count: 1, prior: prior)
        }
        #expect(abs(near[0]!.x - 25) < 0.01 && abs(near[0]!.y - 20) < 0.01)
    }
}

