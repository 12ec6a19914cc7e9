#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
/// Rasterises tubes (curves with a radius) into an attenuation buffer by their line integrals.
///
/// A tube of radius r seen side-on has path length 2·√(r² − d²) at distance d from its centreline.
/// To keep thin wires and small sizes free of aliasing, the profile is widened to rₑ = √(r² + ¼)
/// (half a pixel) and scaled by r²/rₑ², which keeps the integral across the tube (πr²) unchanged.
/// Each segment touches only the pixels of its bounding box; within one tube the path length is
/// the maximum over its segments (joints are not counted twice), then added, times μ, to the
/// attenuation buffer over the rows and columns the tube touched.
final class TubeCanvas {
    let width: Int, height: Int
    /// Accumulated attenuation μ·L (dimensionless), [H, W].
    var attenuation: [Float]
    /// Path length (pixels) of the tube being drawn, [H, W]; zero outside `beginTube`/`endTube`.
    private var scratch: [Float]
    private var spanLow: [Int32], spanHigh: [Int32]
    private var rowLow = Int.max, rowHigh = -1

    init(width: Int, height: Int) {
        self.width = width
        self.height = height
        attenuation = [Float](repeating: 0, count: width * height)
        scratch = [Float](repeating: 0, count: width * height)
        spanLow = [Int32](repeating: Int32.max, count: height)
        spanHigh = [Int32](repeating: -1, count: height)
    }

    /// Path length (pixels) through a tube segment a→b with radii ra, rb, at distance from its
    /// axis computed for point p; the antialiased profile described above. Also returns d and r.
    @inline(__always)
    static func profile(_ p: V2, _ a: V2, _ b: V2, _ ra: Float, _ rb: Float) -> (length: Float, d2: Float, r: Float) {
        let ab = b - a, ap = p - a
        let l2 = dot(ab, ab)
        var t = l2 > 0 ? dot(ap, ab) / l2 : 0
        t = min(max(t, 0), 1)
        let q = ap - ab * t
        let d2 = dot(q, q)
        let r = ra + (rb - ra) * t
        let re2 = r * r + 0.25
        if d2 >= re2 { return (0, d2, r) }
        return (2 * (re2 - d2).squareRoot() * (r * r / re2), d2, r)
    }

    /// Path length through a whole tube at point p (frame pixels): the maximum over its segments.
    static func pathLength(at p: V2, points: [V2], radii: [Float]) -> Float {
        var best: Float = 0
        guard points.count > 1 else { return 0 }
        for i in 1 ..< points.count {
            let ra = radii[i - 1], rb = radii[i]
            let reach = max(ra, rb) + 1
            let lo = V2(min(points[i - 1].x, points[i].x), min(points[i - 1].y, points[i].y)) - reach
            let hi = V2(max(points[i - 1].x, points[i].x), max(points[i - 1].y, points[i].y)) + reach
            if p.x < lo.x || p.y < lo.y || p.x > hi.x || p.y > hi.y { continue }
            best = max(best, profile(p, points[i - 1], points[i], ra, rb).length)
        }
        return best
    }

    /// Optional per-pixel outputs while drawing a tube.
    struct Labels {
        /// Binary mask (set to 255 where d ≤ max(r, ½)), [H, W].
        var mask: UnsafeMutablePointer<UInt8>?
        /// Soft tube profile √(1 − d²/r²) times `softWeight`, combined by maximum, [H, W]; it is
        /// nonzero only where the mask is set (both use r = max(radius, ½)).
        var soft: UnsafeMutablePointer<Float>?
        var softWeight: Float = 1
    }

    /// Draws a tube (frame pixels, radii in pixels) with attenuation coefficient mu (per pixel of path).
    /// With mu == 0 only the labels are drawn.
    func drawTube(points: [V2], radii: [Float], mu: Float, labels: Labels = Labels()) {
        guard points.count > 1 else { return }
        let accumulate = mu != 0
        let w = width, h = height
        scratch.withUnsafeMutableBufferPointer { sp in
            let s = sp.baseAddress!
            for i in 1 ..< points.count {
                let a = points[i - 1], b = points[i]
                let ra = max(radii[i - 1], 0), rb = max(radii[i], 0)
                let reach = sqrtf(max(ra, rb) * max(ra, rb) + 0.25) + 0.5
                let x0 = max(Int((min(a.x, b.x) - reach).rounded(.down)), 0)
                let x1 = min(Int((max(a.x, b.x) + reach).rounded(.up)), w - 1)
                let y0 = max(Int((min(a.y, b.y) - reach).rounded(.down)), 0)
                let y1 = min(Int((max(a.y, b.y) + reach).rounded(.up)), h - 1)
                if x0 > x1 || y0 > y1 { continue }
                if accumulate {
                    rowLow = min(rowLow, y0); rowHigh = max(rowHigh, y1)
                }
                for y in y0 ... y1 {
                    if accumulate {
                        spanLow[y] = min(spanLow[y], Int32(x0)); spanHigh[y] = max(spanHigh[y], Int32(x1))
                    }
                    let row = y * w
                    let py = Float(y) + 0.5
                    for x in x0 ... x1 {
                        let pr = TubeCanvas.profile(V2(Float(x) + 0.5, py), a, b, ra, rb)
                        if accumulate && pr.length > s[row + x] { s[row + x] = pr.length }
                        let rm = max(pr.r, 0.5)
                        if let m = labels.mask, pr.d2 <= rm * rm { m[row + x] = 255 }
                        if let soft = labels.soft {
                            let u = 1 - pr.d2 / (rm * rm)
                            if u > 0 {
                                let v = u.squareRoot() * labels.softWeight
                                if v > soft[row + x] { soft[row + x] = v }
                            }
                        }
                    }
                }
            }
        }
        if accumulate { flush(mu: mu) }
    }

    /// Adds mu × path length to the attenuation over the touched spans and clears the scratch.
    private func flush(mu: Float) {
        guard rowHigh >= rowLow else { return }
        let w = width
        attenuation.withUnsafeMutableBufferPointer { ap in
            scratch.withUnsafeMutableBufferPointer { sp in
                for y in rowLow ... rowHigh where spanHigh[y] >= 0 {
                    let row = y * w
                    for x in Int(spanLow[y]) ... Int(spanHigh[y]) {
                        ap[row + x] += mu * sp[row + x]
                        sp[row + x] = 0
                    }
                    spanLow[y] = Int32.max; spanHigh[y] = -1
                }
            }
        }
        rowLow = Int.max; rowHigh = -1
    }
}
