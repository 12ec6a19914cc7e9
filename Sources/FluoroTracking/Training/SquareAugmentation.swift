import FluoroSupport
import FluoroTensor
import Foundation

/// The fine-tuning augmentation of METHOD §10: flips and 90° rotations of the square crop (applied
/// alike to frames, mask and landmarks), gamma and noise on the [0, 1] pixel values.
struct SquareAugmentation {
    /// Quarter turns (0...3), then flips.
    var rotations = 0, flipX = false, flipY = false
    /// Pixel values v → v^gamma, then + N(0, noise²).
    var gamma: Float = 1, noise: Float = 0

    /// A random draw: each flip with p 0.5, a uniform number of quarter turns, gamma log-uniform in
    /// [0.7, 1.4], noise std uniform in [0, 0.03].
    static func random(_ rng: inout SplitMix64) -> SquareAugmentation {
        var a = SquareAugmentation()
        a.rotations = Int(rng.next() % 4)
        a.flipX = rng.nextUnit() < 0.5
        a.flipY = rng.nextUnit() < 0.5
        a.gamma = Float(exp(log(0.7) + rng.nextUnit() * (log(1.4) - log(0.7))))
        a.noise = Float(rng.nextUnit() * 0.03)
        return a
    }

    /// Where index coordinates (x, y) of an S x S square land.
    func map(x: Float, y: Float, side S: Int) -> (x: Float, y: Float) {
        var (u, v) = (x, y)
        let last = Float(S - 1)
        for _ in 0..<rotations { (u, v) = (v, last - u) }
        if flipX { u = last - u }
        if flipY { v = last - v }
        return (u, v)
    }

    /// Moves the pixels of every S x S plane of `planes` ([n, S, S]) like `map` moves points.
    func apply(_ planes: inout [Float], side S: Int) {
        guard rotations != 0 || flipX || flipY else { return }
        let P = S * S
        var moved = [Float](repeating: 0, count: planes.count)
        for base in stride(from: 0, to: planes.count, by: P) {
            for y in 0..<S {
                for x in 0..<S {
                    let (u, v) = map(x: Float(x), y: Float(y), side: S)
                    moved[base + Int(v) * S + Int(u)] = planes[base + y * S + x]
                }
            }
        }
        planes = moved
    }

    /// Gamma, then noise, on [0, 1] values (clamped to [0, 1] before the power).
    func photometric(_ x: inout [Float], _ rng: inout SplitMix64) {
        guard gamma != 1 || noise > 0 else { return }
        for i in x.indices {
            var v = powf(min(max(x[i], 0), 1), gamma)
            if noise > 0 { v += noise * Float(ParameterArena.standardNormal(&rng)) }
            x[i] = v
        }
    }
}
