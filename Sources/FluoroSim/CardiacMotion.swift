#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import FluoroSupport

/// Heart and breathing motion as a smooth displacement of scene space (normalised units).
///
/// Cardiac (~1 Hz): contraction toward the heart centre, a small twist and a shift, weighted by
/// how close a point is to the heart (vessels on the heart move fully, the aortic catheter less).
/// Respiratory (~0.25 Hz): a rigid shift of everything, mostly vertical. Devices are moved by the
/// same field as the vessel they sit in, so they move together.
struct CardiacMotion {
    /// Heart centre and radius of full motion (scene units).
    var centre: V2
    var radius: Float
    /// Cardiac frequency (Hz) and phase at t = 0.
    var cardiacHz: Float
    var cardiacPhase: Float
    /// Fractional contraction at peak systole, twist (radians) and shift (scene units).
    var contraction: Float
    var twist: Float
    var shift: V2
    /// Respiratory frequency (Hz), phase, and shift amplitude (scene units).
    var breathingHz: Float
    var breathingPhase: Float
    var breathingShift: V2

    init(centre: V2, rng: inout SplitMix64) {
        self.centre = centre
        radius = rng.uniform(0.3, 0.4)
        cardiacHz = rng.uniform(0.9, 1.3)
        cardiacPhase = rng.uniform(0, 2 * .pi)
        contraction = rng.uniform(0.06, 0.11)
        twist = rng.uniform(-0.08, 0.08)
        shift = V2(rng.uniform(-0.025, 0.025), rng.uniform(-0.025, 0.025))
        breathingHz = rng.uniform(0.2, 0.3)
        breathingPhase = rng.uniform(0, 2 * .pi)
        breathingShift = V2(rng.uniform(-0.008, 0.008), rng.uniform(0.015, 0.035))
    }

    /// Contraction state in [0, 1] at time t (seconds): quick systole, slower diastole.
    func systole(at t: Float) -> Float {
        let phi = 2 * Float.pi * cardiacHz * t + cardiacPhase
        let warped = phi + 0.45 * sinf(phi)
        return 0.5 - 0.5 * cosf(warped)
    }

    /// Respiratory shift (scene units) at time t (seconds).
    func breathing(at t: Float) -> V2 {
        breathingShift * sinf(2 * Float.pi * breathingHz * t + breathingPhase)
    }

    /// How much cardiac motion a point takes: 1 within the heart, fading to 0.2 far outside.
    @inline(__always) func weight(_ p: V2) -> Float {
        let d = length(p - centre)
        let x = min(max((d - radius) / (0.6 * radius), 0), 1)
        return 1 - 0.8 * x * x * (3 - 2 * x)
    }

    /// The state at one time: everything `apply` needs, computed once per frame.
    struct State {
        var centre: V2
        var scale: Float
        var cosA: Float, sinA: Float
        var shift: V2
        var breathing: V2
        var systole: Float
    }

    func state(at t: Float) -> State {
        let g = systole(at: t)
        return State(centre: centre, scale: contraction * g, cosA: cosf(twist * g), sinA: sinf(twist * g),
                     shift: shift * g, breathing: breathing(at: t), systole: g)
    }

    /// Moves a scene point to its position at the state's time.
    @inline(__always) func apply(_ p: V2, _ s: State) -> V2 {
        let w = weight(p)
        let r = p - centre
        let k = 1 - s.scale * w
        // Rotation by w·angle, linearised in w (the angle is small).
        let ca = 1 + (s.cosA - 1) * w, sa = s.sinA * w
        let rotated = V2(ca * r.x - sa * r.y, sa * r.x + ca * r.y) * k
        return centre + rotated + s.shift * w + s.breathing
    }
}
