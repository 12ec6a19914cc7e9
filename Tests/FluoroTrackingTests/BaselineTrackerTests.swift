import FluoroShards
import Foundation
import Testing
@testable import FluoroTracking

/// The NCC and still baselines on a textured scene translated by known offsets.
@Suite struct BaselineTrackerTests {
    /// A smooth texture: a sum of Gaussian blobs (sigma 2.5–5 px) with fixed random centres.
    struct Texture {
        var blobs: [(x: Float, y: Float, sigma: Float, amplitude: Float)] = []
        init(seed: UInt64, count: Int, side: Float) {
            var state = seed
            func next() -> Float {   // SplitMix-style, uniform in [0, 1)
                state &+= 0x9E37_79B9_7F4A_7C15
                var z = state
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                return Float((z ^ (z >> 31)) >> 40) / Float(1 << 24)
            }
            for _ in 0 ..< count {
                blobs.append((next() * side, next() * side, 2.5 + 2.5 * next(), next() < 0.5 ? -0.3 : 0.3))
            }
        }

        /// The scene translated by (dx, dy), sampled at pixel centres: [side, side].
        func frame(side: Int, dx: Float, dy: Float) -> TrackingFrame {
            var pixels = [Float](repeating: 0.5, count: side * side)
            for y in 0 ..< side {
                for x in 0 ..< side {
                    let px = Float(x) + 0.5 - dx, py = Float(y) + 0.5 - dy
                    for b in blobs {
                        let d2 = (px - b.x) * (px - b.x) + (py - b.y) * (py - b.y)
                        pixels[y * side + x] += b.amplitude * exp(-d2 / (2 * b.sigma * b.sigma))
                    }
                }
            }
            return TrackingFrame(pixels: pixels, width: side, height: side)
        }
    }

    /// Shifts of the scene per frame, integer and sub-pixel, each within the search radius of the last.
    static let shifts: [(Float, Float)] = [(0, 0), (2, 1), (3.5, -1.25), (1.3, 2.7), (-2.6, 4.4), (-4, 1), (0.25, -0.75)]

    @Test func nccFollowsKnownShiftsWithinHalfAPixel() throws {
        let side = 96, texture = Texture(seed: 11, count: 90, side: 96)
        let landmarks = [Point2(x: 40.3, y: 45.7), Point2(x: 60.5, y: 30.5)]
        let tracker = NCCTracker()
        try tracker.start(first: texture.frame(side: side, dx: 0, dy: 0), landmarks: landmarks)
        for (dx, dy) in Self.shifts.dropFirst() {
            let estimates = try tracker.track(texture.frame(side: side, dx: dx, dy: dy))
            #expect(estimates.count == 2)
            for (e, p) in zip(estimates, landmarks) {
                let error = hypot(e.point.x - (p.x + dx), e.point.y - (p.y + dy))
                #expect(error < 0.5, "shift (\(dx), \(dy)): estimate \(e.point), error \(error) px")
                #expect(!e.lost)
            }
        }
    }

    @Test func stillHoldsTheFirstPositions() throws {
        let texture = Texture(seed: 3, count: 20, side: 32)
        let landmarks = [Point2(x: 10.5, y: 12.25)]
        let tracker = StillTracker()
        try tracker.start(first: texture.frame(side: 32, dx: 0, dy: 0), landmarks: landmarks)
        let moved = try tracker.track(texture.frame(side: 32, dx: 3, dy: 2))
        #expect(moved.map(\.point) == landmarks)
        #expect(tracker.name == "still")
    }

    @Test func defaultSizesScaleWithTheFrame() {
        #expect(NCCTracker.defaultTemplateSide(frameSide: 256) == 15)
        #expect(NCCTracker.defaultSearchRadius(frameSide: 256) == 20)
        #expect(NCCTracker.defaultTemplateSide(frameSide: 96) == 11)
        #expect(NCCTracker.defaultTemplateSide(frameSide: 512) % 2 == 1)
    }

    @Test func parabolaPeakFindsTheVertex() {
        // y = -(x - 0.3)^2 sampled at -1, 0, 1.
        let f = { (x: Float) in -(x - 0.3) * (x - 0.3) }
        #expect(abs(NCCTracker.parabolaPeak(f(-1), f(0), f(1)) - 0.3) < 1e-5)
        #expect(NCCTracker.parabolaPeak(1, 1, 1) == 0)
    }
}
