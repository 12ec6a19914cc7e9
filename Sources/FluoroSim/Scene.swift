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

    /// Draws the scene of sequence `index` (the draws' order is the scene: keep it).
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
        var tubes: [SceneTube] = []
        let main = Scene.addCoronaryTree(heart: heart, duration: duration, into: &tubes, rng: &rng)
        tipAtRest = main.ostium
        Scene.addGuidingCatheter(ostium: main.ostium, mainHeading: main.heading, into: &tubes, rng: &rng)
        (markersAtRest, markerSeparation) = Scene.addBalloon(in: main.line, probability: config.balloonProbability,
                                                             into: &tubes, rng: &rng)
        if config.distractors { Scene.addDistractors(tree: tubes.filter { $0.role == .vessel }, ostium: main.ostium, into: &tubes, rng: &rng) }
        self.tubes = tubes
        anatomy = AnatomyParameters(heart: heart, rng: &rng)
        detector = DetectorParameters(rng: &rng)
    }

    /// Step of the simulator's random walks (scene units).
    static let walkStep: Float = 0.008

    /// The coronary tree: a main vessel from the ostium across the heart, side branches, and with
    /// some probability a second system that overlaps it. Returns the main vessel, its ostium and
    /// its initial heading (radians).
    static func addCoronaryTree(heart: V2, duration: Float, into tubes: inout [SceneTube],
                                rng: inout SplitMix64) -> (line: Polyline, ostium: V2, heading: Float) {
        let delayPerUnit = 0.15 * duration
        // The main vessel runs in the groove around the heart (a wobbly elliptic arc, like the RCA
        // or the circumflex), starting at the ostium near the top of the heart.
        let sweep: Float = rng.chance(0.5) ? 1 : -1
        let r0 = rng.uniform(1.6, 2.3)
        let groove = V2(rng.uniform(0.2, 0.3), rng.uniform(0.2, 0.3))
        let theta0 = -Float.pi / 2 + sweep * rng.uniform(0.1, 0.6)
        let turn = sweep * rng.uniform(1.6, 2.6)
        let count = max(8, Int(turn.magnitude * (groove.x + groove.y) / 2 / walkStep))
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
        addBranches(to: main, depth: 0, delayPerUnit: delayPerUnit, generation: 1, into: &tubes, rng: &rng)
        if rng.chance(0.6) {
            let o2 = ostium + V2(rng.uniform(-0.05, 0.05), rng.uniform(0.0, 0.05))
            let h2 = mainHeading - sweep * rng.uniform(0.6, 1.3)
            let r2 = rng.uniform(1.1, 1.6)
            let second = Polyline.randomWalk(from: o2, heading: h2, step: walkStep, count: Int(rng.uniform(0.4, 0.7) / walkStep),
                                             curvature: 0.06, radius: { r2 * (1 - 0.6 * $0) }, rng: &rng)
            tubes.append(SceneTube(line: second, role: .vessel, mu: Material.contrast, contrastDelay: 0.02 * duration))
            addBranches(to: second, depth: 0.05, delayPerUnit: delayPerUnit, generation: 1, into: &tubes, rng: &rng)
        }
        return (main, ostium, mainHeading)
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
            let branch = Polyline.randomWalk(from: at.point, heading: heading, step: walkStep, count: max(2, Int(len / walkStep)),
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
