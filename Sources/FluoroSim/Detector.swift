#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import FluoroSupport

/// The imaging chain after the patient: collimator, vignetting, exposure and display curve.
struct DetectorParameters {
    /// Collimator centre and radius (scene units); exponent 2 is a circle, larger a rounded square.
    var centre: V2, radius: Float, exponent: Float
    /// Optional straight shutter blade: unit normal and distance from the centre (scene units).
    var shutterNormal: V2?, shutterDistance: Float
    /// Fractional intensity loss at the collimator edge.
    var vignetting: Float
    /// Display: pixel = 255 · exposure · s^gamma for a detected signal s in [0, 1].
    var exposure: Float, gamma: Float

    init(rng: inout SplitMix64) {
        centre = V2(0.5 + rng.uniform(-0.02, 0.02), 0.5 + rng.uniform(-0.02, 0.02))
        radius = rng.uniform(0.42, 0.49)
        exponent = rng.chance(0.65) ? 2 : rng.uniform(2.8, 4.5)
        if rng.chance(0.3) {
            let a = Float(rng.integer(0, 4)) * .pi / 2 + rng.uniform(-0.1, 0.1)
            shutterNormal = V2(cosf(a), sinf(a))
        } else {
            shutterNormal = nil
        }
        shutterDistance = rng.uniform(0.36, 0.44)
        vignetting = rng.uniform(0.15, 0.35)
        exposure = rng.uniform(0.65, 1.35)
        gamma = rng.uniform(0.8, 1.2)
    }

    /// Collimation × vignetting per frame pixel, [size, size], in [0, 1]; 0 outside the field.
    func gainMap(size: Int) -> [Float] {
        var out = [Float](repeating: 0, count: size * size)
        let px = Float(size)
        let edge = max(1.2 / px, 0.004)          // soft edge: ~1 px, at least 0.4 % of the field
        for y in 0 ..< size {
            for x in 0 ..< size {
                let p = V2((Float(x) + 0.5) / px, (Float(y) + 0.5) / px) - centre
                let rho = exponent == 2 ? length(p)
                    : powf(powf(abs(p.x), exponent) + powf(abs(p.y), exponent), 1 / exponent)
                var g = smooth((radius - rho) / edge + 0.5)
                if let n = shutterNormal { g *= smooth((shutterDistance - dot(p, n)) / edge + 0.5) }
                let r = min(rho / radius, 1)
                out[y * size + x] = g * (1 - vignetting * r * r)
            }
        }
        return out
    }

    /// 8-bit display curve sampled at `lutSize` signal levels over [0, lutTop].
    func displayTable(lutSize: Int, lutTop: Float) -> [UInt8] {
        (0 ..< lutSize).map { i in
            let s = Float(i) / Float(lutSize - 1) * lutTop
            let v = 255 * exposure * powf(s, gamma)
            return UInt8(min(max(v.rounded(), 0), 255))
        }
    }
}

/// A normalised Gaussian kernel of standard deviation sigma (pixels), radius ⌈2σ⌉ (at least 1).
func gaussianKernel(sigma: Float) -> [Float] {
    let r = max(1, Int((2 * sigma).rounded(.up)))
    var k = (-r ... r).map { expf(-Float($0 * $0) / (2 * sigma * sigma)) }
    let s = k.reduce(0, +)
    for i in k.indices { k[i] /= s }
    return k
}
