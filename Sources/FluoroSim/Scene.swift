#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import FluoroSupport

/// Everything random about one sequence, drawn once from its (seed, index) stream, in scene units
/// (frame side = 1) and millimetres. Independent of the frame size: the same seed and index give
/// the same scene at 64 and at 1024 pixels.
struct Scene {
    var angio: Bool
    var motion: CardiacMotion
    /// Vessels, devices and distractors, drawn in this order.
    var tubes: [SceneTube]
    /// The catheter tip and the two marker positions (scene units, at rest).
    var tipAtRest: V2
    var markersAtRest: [V2]
    /// The nominal marker separation along the vessel (scene units, at rest).
    var markerSeparation: Float
    /// Contrast bolus timing (seconds) and peak level.
    var contrastStart: Float, contrastRise: Float, contrastPlateau: Float, contrastFall: Float, contrastPeak: Float
    var anatomy: AnatomyParameters
    var detector: DetectorParameters

    /// Contrast level in [0, 1] at time t for a vessel that fills `delay` seconds late.
    func contrast(at t: Float, delay: Float = 0) -> Float {
        guard angio else { return 0 }
        let u = t - contrastStart - delay
        if u <= 0 { return 0 }
        if u < contrastRise { return contrastPeak * smooth(u / contrastRise) }
        let v = u - contrastRise - contrastPlateau
        if v <= 0 { return contrastPeak }
        if v < contrastFall { return contrastPeak * (1 - 0.85 * smooth(v / contrastFall)) }
        return contrastPeak * 0.15
    }

    init(config: SimulatorConfig, index: Int) {
        var rng = SplitMix64.derived(from: config.seed, UInt64(truncatingIfNeeded: index), 0x5CE7E)
        switch config.kind {
        case .angio: angio = true
        case .fluoro: angio = false
        case .mixed: angio = rng.chance(0.5)
        }
        let heart = V2(rng.uniform(0.42, 0.58), rng.uniform(0.5, 0.64))
        motion = CardiacMotion(centre: heart, rng: &rng)
        let duration = Float(config.frames) * Float(config.frameTimeMs) / 1000
        contrastStart = rng.uniform(0.0, 0.2) * duration
        contrastRise = rng.uniform(0.12, 0.22) * duration
        contrastPlateau = rng.uniform(0.25, 0.4) * duration
        contrastFall = rng.uniform(0.2, 0.3) * duration
        contrastPeak = rng.uniform(0.85, 1.0)
        let delayPerUnit = 0.15 * duration

        // The coronary tree: a main vessel from the ostium across the heart, side branches, and
        // with some probability a second system that overlaps it.
        var tubes: [SceneTube] = []
        // The main vessel runs in the groove around the heart (a wobbly elliptic arc, like the RCA
        // or the circumflex), starting at the ostium near the top of the heart.
        let sweep: Float = rng.chance(0.5) ? 1 : -1
        let r0 = rng.uniform(1.6, 2.3)
        let step: Float = 0.008
        let groove = V2(rng.uniform(0.2, 0.3), rng.uniform(0.2, 0.3))
        let theta0 = -Float.pi / 2 + sweep * rng.uniform(0.1, 0.6)
        let turn = sweep * rng.uniform(1.6, 2.6)
        let count = max(8, Int(turn.magnitude * (groove.x + groove.y) / 2 / step))
        var mainPoints: [V2] = [], mainRadii: [Float] = []
        var wobble: Float = 0, wobbleRate: Float = 0
        for i in 0 ... count {
            let f = Float(i) / Float(count)
            let theta = theta0 + turn * f
            wobbleRate = 0.8 * wobbleRate + 0.2 * rng.uniform(-0.02, 0.02)
            wobble = max(-0.07, min(0.07, wobble + wobbleRate))
            let radial = V2(cosf(theta), sinf(theta))
            mainPoints.append(heart + radial * (groove * (1 + 0.15 * sinf(3 * f)) + wobble))
            mainRadii.append(r0 * (1 - 0.6 * f))
        }
        let main = Polyline(points: mainPoints, radii: mainRadii).smoothed(passes: 12)
        let ostium = mainPoints[0]
        let startDirection = mainPoints[1] - mainPoints[0]
        let mainHeading = atan2f(startDirection.y, startDirection.x)
        tubes.append(SceneTube(line: main, role: .vessel, mu: Material.contrast))
        Scene.addBranches(to: main, depth: 0, delayPerUnit: delayPerUnit, generation: 1, into: &tubes, rng: &rng)
        if rng.chance(0.6) {
            let o2 = ostium + V2(rng.uniform(-0.05, 0.05), rng.uniform(0.0, 0.05))
            let h2 = mainHeading - sweep * rng.uniform(0.6, 1.3)
            let r2 = rng.uniform(1.1, 1.6)
            let second = Polyline.randomWalk(from: o2, heading: h2, step: step, count: Int(rng.uniform(0.4, 0.7) / step),
                                             curvature: 0.06, radius: { r2 * (1 - 0.6 * $0) }, rng: &rng)
            tubes.append(SceneTube(line: second, role: .vessel, mu: Material.contrast, contrastDelay: 0.02 * duration))
            Scene.addBranches(to: second, depth: 0.05, delayPerUnit: delayPerUnit, generation: 1, into: &tubes, rng: &rng)
        }

        // Guiding catheter: from the ostium back out through the aortic root to the top edge,
        // stored proximal → tip, so the tip is its last point.
        let back = mainHeading + .pi + rng.uniform(-0.6, 0.6)
        let exit = V2(rng.uniform(0.25, 0.85), -0.3)
        var cath = Polyline.randomWalk(from: ostium, heading: back, step: step, count: 160, curvature: 0.03,
                                       radius: { _ in Material.catheterRadiusMm }, steerToward: exit, steer: 0.035, rng: &rng)
        let outside: (V2) -> Bool = { p in p.y < -0.08 || p.x < -0.08 || p.x > 1.08 }
        if let cut = cath.points.firstIndex(where: outside) {
            cath.points.removeSubrange((cut + 1)...); cath.radii.removeSubrange((cut + 1)...)
        }
        cath.points.reverse(); cath.radii.reverse()
        tipAtRest = ostium
        tubes.append(SceneTube(line: cath, role: .catheter, mu: Material.catheter))
        var lumen = cath
        lumen.radii = lumen.radii.map { $0 * 0.65 }
        tubes.append(SceneTube(line: lumen, role: .catheterLumen, mu: Material.contrast))

        // Guidewire and balloon catheter in the main vessel, markers a fixed arc length apart.
        markersAtRest = []
        markerSeparation = 0
        if rng.chance(config.balloonProbability) {
            let mm = 1 / Float(SimulatorConfig.fieldOfViewMm)
            let total = main.arcLength
            let wireEnd = total * rng.uniform(0.85, 0.97)
            let wire = main.slice(from: 0, to: wireEnd)
            tubes.append(SceneTube(line: Scene.constantRadius(wire, Material.wireRadiusMm), role: .chain, mu: Material.wire))
            let coilStart: Float = max(0, wireEnd - 30 * mm)
            let coil = main.slice(from: coilStart, to: wireEnd)
            tubes.append(SceneTube(line: Scene.constantRadius(coil, Material.wireRadiusMm * 1.2), role: .chain, mu: Material.wireTip))
            let separation = rng.uniform(12, 20) * mm
            var s0 = total * rng.uniform(0.2, 0.55)
            // Keep both markers well inside the field: move the balloon proximally if needed.
            while s0 > 0.05 && !Scene.inField(main.sample(atArcLength: s0 + separation).point) { s0 -= 0.02 }
            if s0 + separation < wireEnd && Scene.inField(main.sample(atArcLength: s0).point)
                && Scene.inField(main.sample(atArcLength: s0 + separation).point) {
                let shaft = main.slice(from: 0, to: s0)
                tubes.append(SceneTube(line: Scene.constantRadius(shaft, Material.shaftRadiusMm), role: .chain, mu: Material.shaft))
                let balloon = main.slice(from: s0, to: s0 + separation)
                tubes.append(SceneTube(line: Scene.constantRadius(balloon, Material.balloonRadiusMm), role: .chain, mu: Material.shaft))
                for (k, s) in [s0, s0 + separation].enumerated() {
                    let band = main.slice(from: s - 0.5 * Material.markerLengthMm * mm, to: s + 0.5 * Material.markerLengthMm * mm)
                    tubes.append(SceneTube(line: Scene.constantRadius(band, Material.markerRadiusMm), role: .marker(k), mu: Material.marker))
                    markersAtRest.append(main.sample(atArcLength: s).point)
                }
                markerSeparation = separation
            }
        }

        if config.distractors { Scene.addDistractors(tree: tubes.filter { $0.role == .vessel }, ostium: ostium, into: &tubes, rng: &rng) }
        self.tubes = tubes
        anatomy = AnatomyParameters(heart: heart, rng: &rng)
        detector = DetectorParameters(rng: &rng)
    }

    /// True when a scene point is comfortably inside any collimator the detector may draw.
    static func inField(_ p: V2) -> Bool { length(p - V2(0.5, 0.5)) < 0.36 }

    static func constantRadius(_ line: Polyline, _ r: Float) -> Polyline {
        Polyline(points: line.points, radii: [Float](repeating: r, count: line.points.count))
    }

    /// Side branches off a parent vessel, recursively (two generations), tapering to ~0.35 mm.
    static func addBranches(to parent: Polyline, depth: Float, delayPerUnit: Float, generation: Int,
                            into tubes: inout [SceneTube], rng: inout SplitMix64) {
        let count = generation == 1 ? rng.integer(3, 8) : rng.integer(0, 3)
        let total = parent.arcLength
        for _ in 0 ..< count {
            let s = total * rng.uniform(0.1, 0.85)
            let at = parent.sample(atArcLength: s)
            let next = parent.points[min(at.index + 1, parent.points.count - 1)]
            let d = next - parent.points[at.index]
            let heading = atan2f(d.y, d.x) + (rng.chance(0.5) ? 1 : -1) * rng.uniform(0.4, 1.1)
            let rStart = max(0.4, at.radius * rng.uniform(0.5, 0.75))
            let len = (generation == 1 ? rng.uniform(0.1, 0.3) : rng.uniform(0.05, 0.14))
            let branch = Polyline.randomWalk(from: at.point, heading: heading, step: 0.008, count: max(2, Int(len / 0.008)),
                                             curvature: 0.12, radius: { max(0.35, rStart * (1 - 0.5 * $0)) }, rng: &rng).smoothed(passes: 3)
            tubes.append(SceneTube(line: branch, role: .vessel, mu: Material.contrast, contrastDelay: (depth + s) * delayPerUnit))
            if generation < 2 {
                addBranches(to: branch, depth: depth + s, delayPerUnit: delayPerUnit, generation: generation + 1, into: &tubes, rng: &rng)
            }
        }
    }
}

@inline(__always) func smooth(_ x: Float) -> Float {
    let u = min(max(x, 0), 1)
    return u * u * (3 - 2 * u)
}
