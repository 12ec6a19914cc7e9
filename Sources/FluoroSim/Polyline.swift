#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import FluoroSupport

/// A 2-D point or vector. In scene space: normalised frame units (the frame side is 1, x right,
/// y down); in frame space: pixels.
typealias V2 = SIMD2<Float>

@inline(__always) func dot(_ a: V2, _ b: V2) -> Float { a.x * b.x + a.y * b.y }
@inline(__always) func length(_ a: V2) -> Float { (a.x * a.x + a.y * a.y).squareRoot() }

/// A tube's centreline: points with a radius at each, in scene units (points) and millimetres (radii).
struct Polyline {
    var points: [V2]
    var radii: [Float]

    /// Total arc length in scene units.
    var arcLength: Float {
        var s: Float = 0
        for i in 1 ..< max(points.count, 1) { s += length(points[i] - points[i - 1]) }
        return s
    }

    /// Cumulative arc length at each point, [n].
    func cumulativeArcLength() -> [Float] {
        var out = [Float](repeating: 0, count: points.count)
        for i in 1 ..< max(points.count, 1) { out[i] = out[i - 1] + length(points[i] - points[i - 1]) }
        return out
    }

    /// The point and radius at arc length s (clamped to the ends), by linear interpolation.
    func sample(atArcLength s: Float) -> (point: V2, radius: Float, index: Int) {
        guard points.count > 1 else { return (points.first ?? .zero, radii.first ?? 0, 0) }
        var acc: Float = 0
        for i in 1 ..< points.count {
            let l = length(points[i] - points[i - 1])
            if acc + l >= s {
                let t = l > 0 ? max(0, s - acc) / l : 0
                return (points[i - 1] + (points[i] - points[i - 1]) * t, radii[i - 1] + (radii[i] - radii[i - 1]) * t, i - 1)
            }
            acc += l
        }
        return (points[points.count - 1], radii[radii.count - 1], points.count - 2)
    }

    /// The part between arc lengths s0 and s1 (s0 < s1), resampled at the original points plus both ends.
    func slice(from s0: Float, to s1: Float) -> Polyline {
        let a = sample(atArcLength: s0), b = sample(atArcLength: s1)
        var pts = [a.point], rs = [a.radius]
        let cum = cumulativeArcLength()
        for i in 0 ..< points.count where cum[i] > s0 && cum[i] < s1 {
            pts.append(points[i]); rs.append(radii[i])
        }
        pts.append(b.point); rs.append(b.radius)
        return Polyline(points: pts, radii: rs)
    }

    /// The same curve with points at most `step` apart (scene units), radii interpolated.
    func resampled(maxStep step: Float) -> Polyline {
        guard points.count > 1, step > 0 else { return self }
        var pts = [points[0]], rs = [radii[0]]
        for i in 1 ..< points.count {
            let a = points[i - 1], b = points[i]
            let n = max(1, Int((length(b - a) / step).rounded(.up)))
            for k in 1 ... n {
                let t = Float(k) / Float(n)
                pts.append(a + (b - a) * t)
                rs.append(radii[i - 1] + (radii[i] - radii[i - 1]) * t)
            }
        }
        return Polyline(points: pts, radii: rs)
    }

    /// The curve after `passes` rounds of [1, 2, 1]/4 smoothing of its interior points (ends fixed).
    func smoothed(passes: Int) -> Polyline {
        guard points.count > 2 else { return self }
        var p = points
        for _ in 0 ..< passes {
            var q = p
            for i in 1 ..< p.count - 1 { q[i] = (p[i - 1] + 2 * p[i] + p[i + 1]) * 0.25 }
            p = q
        }
        return Polyline(points: p, radii: radii)
    }

    /// A smooth random walk: start point, heading (radians), step, count; the heading turns by a
    /// curvature that itself wanders; `steer` pulls the heading toward `target` when given.
    static func randomWalk(from start: V2, heading: Float, step: Float, count: Int, curvature: Float,
                           radius: (Float) -> Float, steerToward target: V2? = nil, steer: Float = 0,
                           rng: inout SplitMix64) -> Polyline {
        var p = start, h = heading, k: Float = rng.uniform(-curvature, curvature)
        var pts = [p], rs = [radius(0)]
        for i in 1 ... max(count, 1) {
            k = 0.85 * k + 0.15 * rng.uniform(-curvature, curvature) * 2.5
            h += k
            if let target, steer > 0 {
                let d = target - p
                let want = atan2f(d.y, d.x)
                var diff = want - h
                while diff > .pi { diff -= 2 * .pi }
                while diff < -.pi { diff += 2 * .pi }
                h += steer * diff
            }
            p += V2(cosf(h), sinf(h)) * step
            pts.append(p)
            rs.append(radius(Float(i) / Float(max(count, 1))))
        }
        return Polyline(points: pts, radii: rs)
    }
}
