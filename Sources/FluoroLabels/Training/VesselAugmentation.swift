import FluoroSupport
import FluoroTensor
import Foundation

/// The labeller's training augmentation (METHOD §9), chosen to bridge simulator and clinic:
/// gamma, contrast, blur, noise level, flips and a random collimator shutter. Works on one
/// square crop in [0, 1] and its 0/1 target; every draw comes from the sample's generator.
public struct VesselAugmentation: Codable, Equatable, Sendable {
    /// Gamma = exp(u), u uniform in ±this.
    public var logGamma: Double = 0.4
    /// Contrast about the crop's mean, uniform in this range.
    public var contrast: ClosedRange<Double> = 0.6...1.4
    /// Gaussian blur with σ uniform in [0, this] px, with probability `blurProbability`.
    public var blurSigma: Double = 1.2
    public var blurProbability: Double = 0.5
    /// Added Gaussian noise with σ uniform in [0, this] (of the [0, 1] range).
    public var noiseSigma: Double = 0.05
    /// Probability of a dark shutter band on each side (0.15 each; the target is cleared under it).
    public var shutterProbability: Double = 0.15
    /// The widest shutter band, as a fraction of the side.
    public var shutterDepth: Double = 0.25

    public init() {}

    /// Augments `image` and `target` ([side, side] each) in place.
    public func apply(image: inout [Float], target: inout [Float], side n: Int, rng: inout SplitMix64) {
        flips(&image, &target, n, &rng)
        let gamma = Float(exp((rng.nextUnit() * 2 - 1) * logGamma))
        for i in image.indices { image[i] = powf(max(image[i], 0), gamma) }
        let c = Float(contrast.lowerBound + rng.nextUnit() * (contrast.upperBound - contrast.lowerBound))
        let mean = image.reduce(0, +) / Float(image.count)
        for i in image.indices { image[i] = mean + c * (image[i] - mean) }
        if rng.nextUnit() < blurProbability { GaussianBlur.apply(&image, side: n, sigma: Float(rng.nextUnit() * blurSigma)) }
        shutter(&image, &target, n, &rng)
        let noise = rng.nextUnit() * noiseSigma
        for i in image.indices { image[i] += Float(noise * ParameterArena.standardNormal(&rng)) }
    }

    /// Horizontal and vertical flips, each with probability 1/2.
    func flips(_ image: inout [Float], _ target: inout [Float], _ n: Int, _ rng: inout SplitMix64) {
        let h = rng.nextUnit() < 0.5, v = rng.nextUnit() < 0.5
        guard h || v else { return }
        let (a, b) = (image, target)
        for y in 0..<n {
            for x in 0..<n {
                let src = (v ? n - 1 - y : y) * n + (h ? n - 1 - x : x)
                image[y * n + x] = a[src]; target[y * n + x] = b[src]
            }
        }
    }

    /// A dark band (near the crop's minimum, with its own small texture) on each side with
    /// probability `shutterProbability`; the vessel target is cleared beneath it.
    func shutter(_ image: inout [Float], _ target: inout [Float], _ n: Int, _ rng: inout SplitMix64) {
        let dark = (image.min() ?? 0) * 0.5
        for side in 0..<4 where rng.nextUnit() < shutterProbability {
            let depth = max(1, Int(rng.nextUnit() * shutterDepth * Double(n)))
            for y in 0..<n {
                for x in 0..<n {
                    let inside = side == 0 ? x < depth : side == 1 ? x >= n - depth : side == 2 ? y < depth : y >= n - depth
                    if inside { image[y * n + x] = dark; target[y * n + x] = 0 }
                }
            }
        }
    }
}

