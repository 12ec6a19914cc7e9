#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import FluoroSupport

extension Scene {
    /// Devices that are not the tracked chain: a second wire in a side branch (moves with the
    /// heart), ECG lead wires, sternal wire loops and surgical clips (move with breathing only).
    static func addDistractors(tree: [SceneTube], ostium: V2, into tubes: inout [SceneTube], rng: inout SplitMix64) {
        let mm = 1 / Float(SimulatorConfig.fieldOfViewMm)
        // A buddy wire down a side branch.
        if tree.count > 1 && rng.chance(0.3) {
            let branch = tree[rng.integer(1, tree.count)].line
            let pts = [ostium] + branch.points
            tubes.append(SceneTube(line: constantRadius(Polyline(points: pts, radii: []), Material.wireRadiusMm),
                                   role: .distractor, mu: Material.wire))
        }
        // ECG lead wires: long gentle curves across the field, with an electrode snap.
        for _ in 0 ..< (rng.chance(0.5) ? rng.integer(1, 3) : 0) {
            let start = V2(rng.uniform(-0.1, 1.1), rng.chance(0.5) ? -0.1 : 1.1)
            let heading = start.y < 0 ? rng.uniform(0.3, 2.8) : -rng.uniform(0.3, 2.8)
            let lead = Polyline.randomWalk(from: start, heading: heading, step: 0.01, count: 150, curvature: 0.02,
                                           radius: { _ in 0.35 }, rng: &rng)
            tubes.append(SceneTube(line: lead, role: .distractor, mu: Material.steel * 0.6, cardiac: false))
            if let end = lead.points.last(where: { length($0 - V2(0.5, 0.5)) < 0.45 }) {
                tubes.append(SceneTube(line: ring(centre: end, radiusX: 5 * mm, radiusY: 5 * mm, angle: 0, wire: 0.6),
                                       role: .distractor, mu: Material.steel * 0.5, cardiac: false))
            }
        }
        // Sternal wires: twisted loops stacked along the sternum.
        if rng.chance(0.35) {
            let x = rng.uniform(0.25, 0.75), y0 = rng.uniform(0.05, 0.3)
            for k in 0 ..< rng.integer(2, 6) {
                let c = V2(x + rng.uniform(-0.02, 0.02), y0 + Float(k) * rng.uniform(0.1, 0.15))
                let angle = rng.uniform(-0.3, 0.3)
                tubes.append(SceneTube(line: ring(centre: c, radiusX: rng.uniform(5, 9) * mm, radiusY: rng.uniform(1.5, 3) * mm,
                                                  angle: angle, wire: 0.45),
                                       role: .distractor, mu: Material.steel, cardiac: false))
                let knot = c + V2(cosf(angle), sinf(angle)) * 6 * mm
                tubes.append(SceneTube(line: Polyline(points: [knot, knot + V2(0.8, 2.5) * mm, knot + V2(-0.5, 5) * mm],
                                                      radii: [1.0, 1.0, 0.8]),
                                       role: .distractor, mu: Material.steel, cardiac: false))
            }
        }
        // Surgical clips: short dense bars, some on the heart (they move with it).
        for _ in 0 ..< (rng.chance(0.35) ? rng.integer(1, 6) : 0) {
            let c = V2(rng.uniform(0.15, 0.85), rng.uniform(0.15, 0.85))
            let a = rng.uniform(0, .pi)
            let half = V2(cosf(a), sinf(a)) * rng.uniform(2.5, 4) * mm
            let bend = V2(-sinf(a), cosf(a)) * 0.8 * mm
            tubes.append(SceneTube(line: Polyline(points: [c - half, c + bend, c + half], radii: [0.6, 0.7, 0.6]),
                                   role: .distractor, mu: Material.steel * 0.8, cardiac: rng.chance(0.5)))
        }
    }

    /// A closed loop (an ellipse of the given radii, rotated) made of wire of radius `wire` mm.
    static func ring(centre: V2, radiusX: Float, radiusY: Float, angle: Float, wire: Float) -> Polyline {
        let n = 24
        var pts: [V2] = []
        let ca = cosf(angle), sa = sinf(angle)
        for i in 0 ... n {
            let t = 2 * Float.pi * Float(i) / Float(n)
            let e = V2(radiusX * cosf(t), radiusY * sinf(t))
            pts.append(centre + V2(ca * e.x - sa * e.y, sa * e.x + ca * e.y))
        }
        return Polyline(points: pts, radii: [Float](repeating: wire, count: pts.count))
    }
}
