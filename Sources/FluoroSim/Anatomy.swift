#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import FluoroSupport

/// The patient's body behind the heart: soft tissue, lungs, diaphragm, spine, ribs and a mottled
/// texture (scene units; attenuations are dimensionless μ·L totals).
struct AnatomyParameters {
    var body: Float
    var heartCentre: V2, heartAxes: V2, heartMu: Float
    /// Departures of the heart's outline from an ellipse: cos 2θ and sin 2θ terms, and a cos 3θ lobe.
    var heartShape: V2, heartLobe: Float
    var diaphragmTop: Float, diaphragmCurve: Float, diaphragmX: Float, diaphragmMu: Float
    var spineX: Float, spineHalfWidth: Float, spineMu: Float, vertebraPeriod: Float, vertebraPhase: Float
    var ribs: [Polyline]
    /// Rib bone attenuation per mm (the marrow inside keeps 30 % of it).
    var ribMu: Float
    var coarse: [Float], fine: [Float]
    static let coarseGrid = 7, fineGrid = 22
    var coarseAmplitude: Float, fineAmplitude: Float

    init(heart: V2, rng: inout SplitMix64) {
        body = rng.uniform(0.3, 0.9)
        heartCentre = heart + V2(rng.uniform(-0.12, 0.12), rng.uniform(0.0, 0.1))
        heartAxes = V2(rng.uniform(0.38, 0.55), rng.uniform(0.3, 0.42))
        heartShape = V2(rng.uniform(-0.15, 0.15), rng.uniform(-0.15, 0.15))
        heartLobe = rng.uniform(-0.1, 0.1)
        heartMu = rng.uniform(0.7, 1.3)
        diaphragmTop = rng.uniform(0.62, 1.1)
        diaphragmCurve = rng.uniform(0.4, 1.2)
        diaphragmX = rng.uniform(0.2, 0.8)
        diaphragmMu = rng.uniform(0.6, 1.1)
        spineX = rng.chance(0.7) ? rng.uniform(-0.05, 0.35) : rng.uniform(0.65, 1.05)
        spineHalfWidth = rng.uniform(0.08, 0.12)
        spineMu = rng.uniform(0.25, 0.5)
        vertebraPeriod = rng.uniform(0.15, 0.2)
        vertebraPhase = rng.uniform(0, 1)
        var ribs: [Polyline] = []
        let tilt = rng.uniform(0.15, 0.45) * (rng.chance(0.5) ? 1 : -1)
        var y = rng.uniform(-0.2, 0.0)
        while y < 1.1 {
            var pts: [V2] = []
            let bow = rng.uniform(0.2, 0.5)
            let cx = rng.uniform(0.2, 0.8)
            for i in 0 ... 28 {
                let x = -0.2 + 1.4 * Float(i) / 28
                pts.append(V2(x, y + tilt * (x - 0.5) + bow * (x - cx) * (x - cx)))
            }
            ribs.append(Polyline(points: pts, radii: [Float](repeating: rng.uniform(5, 7), count: pts.count)))
            y += rng.uniform(0.16, 0.22)
        }
        self.ribs = ribs
        ribMu = rng.uniform(0.012, 0.025)
        coarse = (0 ..< (AnatomyParameters.coarseGrid + 1) * (AnatomyParameters.coarseGrid + 1)).map { _ in rng.uniform(-1, 1) }
        fine = (0 ..< (AnatomyParameters.fineGrid + 1) * (AnatomyParameters.fineGrid + 1)).map { _ in rng.uniform(-1, 1) }
        coarseAmplitude = rng.uniform(0.08, 0.16)
        fineAmplitude = rng.uniform(0.03, 0.06)
    }

    /// Thickness of the heart shadow (0...1) at offset (dx, dy) from its centre, given the inverse
    /// squared semi-axes: an ellipsoid's √(1 − e) with a wavy outline and a faint soft rim.
    @inline(__always) func heartThickness(_ dx: Float, _ dy: Float, _ inverseAxes: V2) -> Float {
        let x2 = dx * dx * inverseAxes.x, y2 = dy * dy * inverseAxes.y
        let e0 = x2 + y2
        guard e0 < 2.5 else { return 0 }
        let xn = dx * inverseAxes.x.squareRoot(), yn = dy * inverseAxes.y.squareRoot()
        // e0·cos 2θ = x² − y², e0·sin 2θ = 2xy, e0·cos 3θ = x(x² − 3y²)/r with r = √e0.
        let r = max(e0.squareRoot(), 1e-6)
        let e = e0 + heartShape.x * (x2 - y2) + heartShape.y * 2 * xn * yn + heartLobe * xn * (x2 - 3 * y2) / r
        return 0.85 * max(1 - e, 0).squareRoot() + 0.15 * smooth((1.5 - e) * 2)
    }

    /// Smooth value noise on a (g+1)² grid at scene point (u, v) in [0, 1]².
    @inline(__always) static func valueNoise(_ grid: [Float], _ g: Int, _ u: Float, _ v: Float) -> Float {
        let fx = min(max(u, 0), 0.9999) * Float(g), fy = min(max(v, 0), 0.9999) * Float(g)
        let ix = Int(fx), iy = Int(fy)
        let tx = smooth(fx - Float(ix)), ty = smooth(fy - Float(iy))
        let a = grid[iy * (g + 1) + ix], b = grid[iy * (g + 1) + ix + 1]
        let c = grid[(iy + 1) * (g + 1) + ix], d = grid[(iy + 1) * (g + 1) + ix + 1]
        return (a + (b - a) * tx) * (1 - ty) + (c + (d - c) * tx) * ty
    }

    /// The static anatomy (everything but the heart shadow) as attenuation on a canvas of
    /// (size + 2·margin)² pixels; canvas pixel (margin, margin) is frame pixel (0, 0).
    func backgroundMap(size: Int, margin: Int) -> [Float] {
        let side = size + 2 * margin
        let canvas = TubeCanvas(width: side, height: side)
        let px = Float(size)
        let mmPerPixel = Float(SimulatorConfig.fieldOfViewMm) / px
        // Ribs: hollow bony tubes (dense cortex, lighter marrow).
        for rib in ribs {
            let pts = rib.points.map { $0 * px + Float(margin) }
            let outer = rib.radii.map { $0 / mmPerPixel }
            canvas.drawTube(points: pts, radii: outer, mu: ribMu * mmPerPixel)
            canvas.drawTube(points: pts, radii: outer.map { $0 * 0.75 }, mu: -0.7 * ribMu * mmPerPixel)
        }
        var map = canvas.attenuation
        let g1 = AnatomyParameters.coarseGrid, g2 = AnatomyParameters.fineGrid
        map.withUnsafeMutableBufferPointer { m in
            for y in 0 ..< side {
                let v = (Float(y - margin) + 0.5) / px
                let dY = v - diaphragmTop
                let vert = (v / vertebraPeriod + vertebraPhase).truncatingRemainder(dividingBy: 1)
                let disc = 1 - 0.35 * smooth(1 - abs(vert - 0.5) * 8)   // discs at mid-period
                for x in 0 ..< side {
                    let u = (Float(x - margin) + 0.5) / px
                    var mu = body
                    // Diaphragm / liver dome.
                    let dome = dY - diaphragmCurve * (u - diaphragmX) * (u - diaphragmX)
                    mu += diaphragmMu * smooth(dome / 0.06 + 0.5)
                    // Spine: a rounded column with vertebral bodies and discs.
                    let sx = (u - spineX) / spineHalfWidth
                    if abs(sx) < 1.3 { mu += spineMu * smooth((1.3 - abs(sx)) * 1.5) * disc }
                    mu += coarseAmplitude * AnatomyParameters.valueNoise(coarse, g1, u, v)
                    mu += fineAmplitude * AnatomyParameters.valueNoise(fine, g2, u, v)
                    m[y * side + x] += mu
                }
            }
        }
        return map
    }
}
