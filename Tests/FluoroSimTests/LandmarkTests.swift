import Foundation
import Testing
import FluoroShards
@testable import FluoroSim

@Suite struct LandmarkTests {
    @Test func tipLiesOnTheCatheterAndMarkersOnTheVessel() throws {
        let config = SimulatorConfig(frames: 8, size: 128, kind: .mixed, seed: 21, balloonProbability: 1)
        let m = FrameMeasures(size: 128)
        var markerFrames = 0
        for index in 0 ..< 5 {
            let s = XRaySimulator(config: config).sequence(index: index)
            let catheters = try #require(s.layers[.catheterMask]), vessels = try #require(s.layers[.vesselMask])
            let nominal = Scene(config: config, index: index).markerSeparation * 128
            for (f, a) in s.annotations.enumerated() {
                let tip = try #require(a.tip)
                let cath = m.frame(catheters, f)
                #expect(cath[try #require(m.index(tip))] == 255, "sequence \(index) frame \(f): tip off the catheter mask")
                guard a.markers.count == 2 else { continue }
                markerFrames += 1
                let near = m.dilate(m.frame(vessels, f), by: 2)
                for p in a.markers { #expect(near[try #require(m.index(p))]) }
                let d = hypot(a.markers[0].x - a.markers[1].x, a.markers[0].y - a.markers[1].y)
                // Straight-line distance ≤ arc length; the heart's contraction changes it by < ~15 %.
                #expect(d > 0.7 * nominal && d < 1.15 * nominal, "marker distance \(d) vs nominal arc \(nominal)")
            }
        }
        #expect(markerFrames >= 16, "most runs with balloonProbability 1 show both markers")
    }

    @Test func catheterIsDarkerThanItsSurroundings() throws {
        let config = SimulatorConfig(frames: 3, size: 128, kind: .fluoro, seed: 4, distractors: false)
        let m = FrameMeasures(size: 128)
        for index in 0 ..< 4 {
            let s = XRaySimulator(config: config).sequence(index: index)
            let catheters = try #require(s.layers[.catheterMask])
            let field = [Bool](repeating: true, count: m.area)
            for f in 0 ..< 3 {
                let px = m.frame(s.pixels, f)
                let mask = m.frame(catheters, f)
                // Only where both the catheter and its ring are inside the exposed field.
                let lit = (0 ..< m.area).map { px[$0] > 8 }
                let rings = try #require(m.maskAndRing(px, mask: mask, r1: 3, r2: 6,
                                                       field: zip(field, lit).map { $0 && $1 }))
                #expect(rings.inside < rings.ring - 5, "sequence \(index) frame \(f): catheter \(rings.inside) vs ring \(rings.ring)")
            }
        }
    }

    @Test func landmarksMoveWithTheHeartbeat() throws {
        // 96 frames at 15 fps = 6.4 s: several heartbeats and one or two breaths.
        let config = SimulatorConfig(frames: 96, size: 48, kind: .fluoro, seed: 2, balloonProbability: 0, distractors: false)
        let dt = config.frameTimeMs / 1000
        for index in 0 ..< 8 {
            let s = XRaySimulator(config: config).sequence(index: index)
            let tips = try s.annotations.map { try #require($0.tip) }
            let xs = detrended(tips.map { Double($0.x) }), ys = detrended(tips.map { Double($0.y) })
            #expect(xs.map(abs).max()! + ys.map(abs).max()! > 0.1, "the tip moves")
            // Power spectrum (Hann window) of the trajectory; its strongest frequency above the
            // breathing band is the heart rate.
            func power(_ hz: Double) -> Double {
                var re = 0.0, im = 0.0
                for (i, (x, y)) in zip(xs, ys).enumerated() {
                    let w = 0.5 - 0.5 * cos(2 * Double.pi * Double(i) / Double(xs.count - 1))
                    let a = 2 * Double.pi * hz * Double(i) * dt
                    re += w * (x * cos(a) + y * sin(a)); im += w * (y * cos(a) - x * sin(a))
                }
                return re * re + im * im
            }
            func spectrum(_ hz: Double) -> Double {   // both rotation senses of the 2-D motion
                power(hz) + power(-hz)
            }
            let grid = stride(from: 0.6, through: 2.0, by: 0.01).map { $0 }
            let peak = grid.max { spectrum($0) < spectrum($1) }!
            let heart = Double(Scene(config: config, index: index).motion.cardiacHz)
            #expect(abs(peak - heart) < 0.12, "sequence \(index): spectral peak \(peak) Hz, heart rate \(heart) Hz")
            #expect(abs(1 / peak - 1) < 0.35, "a period near one second")
        }
    }

    /// Residual of a least-squares quadratic fit (removes the slow respiratory drift).
    func detrended(_ v: [Double]) -> [Double] {
        let n = v.count
        let t = (0 ..< n).map { Double($0) / Double(n - 1) * 2 - 1 }
        // Orthogonalise against 1, t, t² by Gram–Schmidt.
        var basis: [[Double]] = []
        for k in 0 ..< 3 {
            var b = t.map { pow($0, Double(k)) }
            for q in basis {
                let c = zip(b, q).reduce(0) { $0 + $1.0 * $1.1 }
                b = zip(b, q).map { $0 - c * $1 }
            }
            let norm = b.reduce(0) { $0 + $1 * $1 }.squareRoot()
            basis.append(b.map { $0 / norm })
        }
        var r = v
        for q in basis {
            let c = zip(r, q).reduce(0) { $0 + $1.0 * $1.1 }
            r = zip(r, q).map { $0 - c * $1 }
        }
        return r
    }
}
