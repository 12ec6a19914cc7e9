#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import FluoroSupport

/// The devices of a scene: the guiding catheter and, with some probability, a guidewire with a
/// balloon catheter and its two marker bands.
extension Scene {
    /// Guiding catheter: from the ostium back out through the aortic root to the top edge, stored
    /// proximal → tip, so the tip (the ostium) is its last point; its contrast-filled lumen too.
    static func addGuidingCatheter(ostium: V2, mainHeading: Float, into tubes: inout [SceneTube], rng: inout SplitMix64) {
        let back = mainHeading + .pi + rng.uniform(-0.6, 0.6)
        let exit = V2(rng.uniform(0.25, 0.85), -0.3)
        var cath = Polyline.randomWalk(from: ostium, heading: back, step: walkStep, count: 160, curvature: 0.03,
                                       radius: { _ in Material.catheterRadiusMm }, steerToward: exit, steer: 0.035, rng: &rng)
        let outside: (V2) -> Bool = { p in p.y < -0.08 || p.x < -0.08 || p.x > 1.08 }
        if let cut = cath.points.firstIndex(where: outside) {
            cath.points.removeSubrange((cut + 1)...); cath.radii.removeSubrange((cut + 1)...)
        }
        cath.points.reverse(); cath.radii.reverse()
        tubes.append(SceneTube(line: cath, role: .catheter, mu: Material.catheter))
        var lumen = cath
        lumen.radii = lumen.radii.map { $0 * 0.65 }
        tubes.append(SceneTube(line: lumen, role: .catheterLumen, mu: Material.contrast))
    }

    /// With `probability`: a guidewire (and its radiopaque coil) in the main vessel, and when both
    /// markers fit in the field a shaft, a balloon and two marker bands a fixed arc length apart.
    /// Returns the markers at rest (none, or two) and their separation (0 without them).
    static func addBalloon(in main: Polyline, probability: Double, into tubes: inout [SceneTube],
                           rng: inout SplitMix64) -> (markers: [V2], separation: Float) {
        guard rng.chance(probability) else { return ([], 0) }
        let mm = 1 / Float(SimulatorConfig.fieldOfViewMm)
        let total = main.arcLength
        let wireEnd = total * rng.uniform(0.85, 0.97)
        let wire = main.slice(from: 0, to: wireEnd)
        tubes.append(SceneTube(line: constantRadius(wire, Material.wireRadiusMm), role: .chain, mu: Material.wire))
        let coilStart: Float = max(0, wireEnd - 30 * mm)
        let coil = main.slice(from: coilStart, to: wireEnd)
        tubes.append(SceneTube(line: constantRadius(coil, Material.wireRadiusMm * 1.2), role: .chain, mu: Material.wireTip))
        let separation = rng.uniform(12, 20) * mm
        var s0 = total * rng.uniform(0.2, 0.55)
        // Keep both markers well inside the field: move the balloon proximally if needed.
        while s0 > 0.05 && !inField(main.sample(atArcLength: s0 + separation).point) { s0 -= 0.02 }
        guard s0 + separation < wireEnd && inField(main.sample(atArcLength: s0).point)
            && inField(main.sample(atArcLength: s0 + separation).point) else { return ([], 0) }
        let shaft = main.slice(from: 0, to: s0)
        tubes.append(SceneTube(line: constantRadius(shaft, Material.shaftRadiusMm), role: .chain, mu: Material.shaft))
        let balloon = main.slice(from: s0, to: s0 + separation)
        tubes.append(SceneTube(line: constantRadius(balloon, Material.balloonRadiusMm), role: .chain, mu: Material.shaft))
        var markers: [V2] = []
        for (k, s) in [s0, s0 + separation].enumerated() {
            let band = main.slice(from: s - 0.5 * Material.markerLengthMm * mm, to: s + 0.5 * Material.markerLengthMm * mm)
            tubes.append(SceneTube(line: constantRadius(band, Material.markerRadiusMm), role: .marker(k), mu: Material.marker))
            markers.append(main.sample(atArcLength: s).point)
        }
        return (markers, separation)
    }
}
