import Foundation

/// The training-free Frangi vesselness filter (Frangi et al. 1998; METHOD §9) for dark vessels on
/// a bright background, one 2-D frame at a time.
///
/// Per scale sigma: the Gaussian-derivative Hessian (separable), eigenvalues λ1, λ2 with
/// |λ1| ≤ |λ2|, Rb = |λ1|/λ2, S = √(λ1² + λ2²), and
/// v = exp(−Rb²/(2β²)) · (1 − exp(−S²/(2c²))) where λ2 > 0 (a dark ridge), else 0; the
/// response is the maximum over scales, normalised to [0, 1] per frame. In 2-D the plate term
/// (alpha) is 1, as in scikit-image.
public struct FrangiFilter: Sendable, Equatable {
    /// Scales in pixels at `referenceSide` (METHOD §9: 1, 3, 5, 7, 9 at 512 px).
    public var sigmas: [Double]
    /// The frame side the sigmas are given for; they scale with max(width, height) / this.
    public var referenceSide: Int
    /// Plate sensitivity; has no effect on 2-D images (kept because METHOD names it).
    public var alpha: Double
    /// Blob sensitivity (the Rb term).
    public var beta: Double
    /// Scaled sigmas below this (in pixels) are raised to it: smaller kernels alias.
    public var minimumSigma: Double
    /// Multiply each scale's Hessian by sigma² (Lindeberg's scale normalisation).
    public var scaleNormalised: Bool
    /// c = half the largest S of each scale; false takes it from the first scale only and keeps
    /// it for the rest (scikit-image's `frangi`, which also has `scaleNormalised` false).
    public var gammaPerScale: Bool
    /// Paint over a black collimator shutter (border-connected pixels at the frame minimum, at
    /// least 5% of the frame) with the nearest field values before filtering, and give it zero
    /// response; otherwise the field edge reads as a wide dark vessel. See `ShutterFill`.
    public var suppressShutters: Bool

    /// The METHOD §9 filter: sigmas 1...9 step 2 at 512 px, alpha = beta = 0.5, c per scale.
    public init(sigmas: [Double] = [1, 3, 5, 7, 9], referenceSide: Int = 512, alpha: Double = 0.5, beta: Double = 0.5,
                minimumSigma: Double = 0.5, scaleNormalised: Bool = true, gammaPerScale: Bool = true,
                suppressShutters: Bool = true) {
        self.sigmas = sigmas
        self.referenceSide = referenceSide
        self.alpha = alpha
        self.beta = beta
        self.minimumSigma = minimumSigma
        self.scaleNormalised = scaleNormalised
        self.gammaPerScale = gammaPerScale
        self.suppressShutters = suppressShutters
    }

    /// The sigmas in pixels for a frame of this size.
    public func scaledSigmas(width: Int, height: Int) -> [Double] {
        let factor = Double(max(width, height)) / Double(max(referenceSide, 1))
        return sigmas.map { max($0 * factor, minimumSigma) }
    }

    /// Vesselness of one frame, in [0, 1]. image: [height, width] (any range; vessels dark).
    public func vesselness(_ image: [Float], width: Int, height: Int) -> [Float] {
        precondition(image.count == width * height, "image has \(image.count) values, expected \(width)×\(height)")
        var output = [Float](repeating: 0, count: image.count)
        let workspace = FrangiWorkspace(filter: self, width: width, height: height)
        image.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { workspace.apply(input.baseAddress!, $0.baseAddress!) }
        }
        return output
    }
}

/// Scratch buffers and kernels for filtering frames of one size; one per thread.
final class FrangiWorkspace {
    let width: Int, height: Int
    let kernels: [GaussianDerivativeKernels]
    let filter: FrangiFilter
    // y-pass results and Hessian entries: [height, width] each; padded row scratch.
    private let smoothY, firstY, secondY, hxx, hxy, hyy, padded, filled: UnsafeMutablePointer<Float>
    private let shutter: UnsafeMutablePointer<UInt8>
    private let stack: UnsafeMutablePointer<Int32>

    init(filter: FrangiFilter, width: Int, height: Int) {
        self.filter = filter
        self.width = width
        self.height = height
        kernels = filter.scaledSigmas(width: width, height: height).map { GaussianDerivativeKernels(sigma: $0) }
        let n = max(width * height, 1)
        smoothY = .allocate(capacity: n); firstY = .allocate(capacity: n); secondY = .allocate(capacity: n)
        hxx = .allocate(capacity: n); hxy = .allocate(capacity: n); hyy = .allocate(capacity: n)
        padded = .allocate(capacity: width + 2 * (kernels.map(\.radius).max() ?? 0) + 1)
        filled = .allocate(capacity: n)
        shutter = .allocate(capacity: n)
        stack = .allocate(capacity: n)
    }

    deinit {
        for buffer in [smoothY, firstY, secondY, hxx, hxy, hyy, padded, filled] { buffer.deallocate() }
        shutter.deallocate()
        stack.deallocate()
    }

    /// Filters one frame: input, output [height, width]; output in [0, 1].
    func apply(_ frame: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>) {
        let n = width * height
        output.update(repeating: 0, count: n)
        guard n > 0 else { return }
        var input = frame
        var shutterPixels = 0
        if filter.suppressShutters {
            filled.update(from: frame, count: n)
            shutterPixels = ShutterFill.apply(filled, width: width, height: height, shutter: shutter, stack: stack)
            if shutterPixels > 0 { input = UnsafePointer(filled) }
        }
        let betaTerm = Float(-1 / (2 * filter.beta * filter.beta))
        var gamma: Float? = nil
        for (scale, k) in kernels.enumerated() {
            SeparablePass.vertical(input, smoothY, width: width, height: height, kernel: k.smooth, odd: false)
            SeparablePass.vertical(input, firstY, width: width, height: height, kernel: k.first, odd: true)
            SeparablePass.vertical(input, secondY, width: width, height: height, kernel: k.second, odd: false)
            SeparablePass.horizontal(smoothY, hxx, width: width, height: height, kernel: k.second, odd: false, padded: padded)
            SeparablePass.horizontal(firstY, hxy, width: width, height: height, kernel: k.first, odd: true, padded: padded)
            SeparablePass.horizontal(secondY, hyy, width: width, height: height, kernel: k.smooth, odd: false, padded: padded)
            let sigma = filter.scaledSigmas(width: width, height: height)[scale]
            let norm = filter.scaleNormalised ? Float(sigma * sigma) : 1
            // Eigenvalues in place: hxx ← λ1 (smaller magnitude), hyy ← λ2, hxy ← S².
            var largestS2: Float = 0
            for i in 0 ..< n {
                let a = hxx[i] * norm, b = hxy[i] * norm, c = hyy[i] * norm
                let mean = 0.5 * (a + c), half = 0.5 * (a - c)
                let d = (half * half + b * b).squareRoot()
                let e1 = mean + d, e2 = mean - d
                let swap = abs(e1) > abs(e2)
                let l1 = swap ? e2 : e1, l2 = swap ? e1 : e2
                let s2 = l1 * l1 + l2 * l2
                hxx[i] = l1; hyy[i] = l2; hxy[i] = s2
                largestS2 = max(largestS2, s2)
            }
            if gamma == nil || filter.gammaPerScale {
                let g = 0.5 * largestS2.squareRoot()
                gamma = g > 0 ? g : 1
            }
            let structureTerm = -1 / (2 * gamma! * gamma!)
            for i in 0 ..< n {
                let l2 = hyy[i]
                guard l2 > 0 else { continue }
                let rb = hxx[i] / l2
                let v = exp(betaTerm * rb * rb) * (1 - exp(structureTerm * hxy[i]))
                output[i] = max(output[i], v)
            }
        }
        if shutterPixels > 0 {
            for i in 0 ..< n where shutter[i] != 0 { output[i] = 0 }
        }
        var largest: Float = 0
        for i in 0 ..< n { largest = max(largest, output[i]) }
        if largest > 0 {
            for i in 0 ..< n { output[i] = min(output[i] / largest, 1) }
        }
    }
}
