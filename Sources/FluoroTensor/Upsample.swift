import CFluoroKernels

/// Integer-factor upsampling of NCHW tensors, as `torch.nn.functional.interpolate` with
/// `scale_factor` (bilinear with align_corners=False, and nearest). Backward adds into dx.
public enum Upsample {
    /// The sizes of one upsampling: [N, C, H, W] -> [N, C, H*factor, W*factor].
    public struct Shape: Equatable, Sendable {
        /// Planes: N * C (every plane is upsampled alike).
        public var planes: Int
        public var height: Int
        public var width: Int
        public var factor: Int

        public init(batch: Int, channels: Int, height: Int, width: Int, factor: Int = 2) {
            precondition(factor >= 1, "Upsample: factor \(factor) must be at least 1")
            planes = batch * channels; self.height = height; self.width = width; self.factor = factor
        }

        public var outHeight: Int { height * factor }
        public var outWidth: Int { width * factor }
        public var inputCount: Int { planes * height * width }
        public var outputCount: Int { planes * outHeight * outWidth }
    }

    /// One output coordinate's two source taps and weights along an axis (PyTorch's
    /// area_pixel_compute_source_index): src = (o + 0.5) / f - 0.5, clamped at 0.
    struct Tap { var i0: Int; var i1: Int; var w0: Float; var w1: Float }

    static func taps(outCount: Int, inCount: Int, factor: Int) -> [Tap] {
        let scale = 1 / Float(factor)
        return (0..<outCount).map { o in
            let src = max(0, scale * (Float(o) + 0.5) - 0.5)
            let i0 = min(Int(src), inCount - 1)
            let i1 = i0 < inCount - 1 ? i0 + 1 : i0
            let l1 = src - Float(i0)
            return Tap(i0: i0, i1: i1, w0: 1 - l1, w1: l1)
        }
    }

    /// Bilinear upsampling, align_corners=False. Separable: each output row blends its two source
    /// rows (a vector loop), then reads that blended row at the column taps.
    /// - Parameters: output: out: [N, C, H*f, W*f]; input: x: [N, C, H, W]
    /// Factor 2 runs CFluoroKernels' vectorised C (fixed taps), planes split over threads; other
    /// factors the loop below.
    public static func bilinearForward(output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, shape s: Shape) {
        if s.factor == 2 {
            let plane = s.height * s.width
            return Parallel.chunks(s.planes, minimumChunk: max(1, (1 << 14) / plane)) { planes in
                fk_upsample2_bilinear_forward(output + planes.lowerBound * 4 * plane, input + planes.lowerBound * plane,
                                              planes.count, s.height, s.width)
            }
        }
        bilinearForwardByTaps(output: output, input: input, shape: s)
    }

    /// `bilinearForward` at any factor from the tap tables (the definition the factor-2 kernel is tested against).
    static func bilinearForwardByTaps(output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, shape s: Shape) {
        let ys = taps(outCount: s.outHeight, inCount: s.height, factor: s.factor)
        let xs = taps(outCount: s.outWidth, inCount: s.width, factor: s.factor)
        let W = s.width, Wo = s.outWidth
        let row = UnsafeMutablePointer<Float>.allocate(capacity: W)
        defer { row.deallocate() }
        xs.withUnsafeBufferPointer { xs in
            for p in 0..<s.planes {
                let x = input + p * s.height * W
                let out = output + p * s.outHeight * Wo
                for (oy, ty) in ys.enumerated() {
                    let r0 = x + ty.i0 * W, r1 = x + ty.i1 * W, w0 = ty.w0, w1 = ty.w1
                    for i in 0..<W { row[i] = w0 * r0[i] + w1 * r1[i] }
                    let dst = out + oy * Wo
                    for ox in 0..<Wo { let t = xs[ox]; dst[ox] = t.w0 * row[t.i0] + t.w1 * row[t.i1] }
                }
            }
        }
    }

    /// Adds the gradient of `bilinearForward` into dx (the adjoint of its two separable steps).
    /// - Parameters: inputGradient: dx: [N, C, H, W]; outputGradient: dout: [N, C, H*f, W*f]
    public static func bilinearBackward(inputGradient: UnsafeMutablePointer<Float>, outputGradient: UnsafePointer<Float>,
                                        shape s: Shape) {
        if s.factor == 2 {
            let plane = s.height * s.width
            return Parallel.chunks(s.planes, minimumChunk: max(1, (1 << 14) / plane)) { planes in
                fk_upsample2_bilinear_backward(inputGradient + planes.lowerBound * plane, outputGradient + planes.lowerBound * 4 * plane,
                                               planes.count, s.height, s.width)
            }
        }
        bilinearBackwardByTaps(inputGradient: inputGradient, outputGradient: outputGradient, shape: s)
    }

    /// `bilinearBackward` at any factor from the tap tables.
    static func bilinearBackwardByTaps(inputGradient: UnsafeMutablePointer<Float>, outputGradient: UnsafePointer<Float>,
                                       shape s: Shape) {
        let ys = taps(outCount: s.outHeight, inCount: s.height, factor: s.factor)
        let xs = taps(outCount: s.outWidth, inCount: s.width, factor: s.factor)
        let W = s.width, Wo = s.outWidth
        let row = UnsafeMutablePointer<Float>.allocate(capacity: W)
        defer { row.deallocate() }
        xs.withUnsafeBufferPointer { xs in
            for p in 0..<s.planes {
                let dx = inputGradient + p * s.height * W
                let dout = outputGradient + p * s.outHeight * Wo
                for (oy, ty) in ys.enumerated() {
                    let src = dout + oy * Wo
                    row.update(repeating: 0, count: W)
                    for ox in 0..<Wo { let t = xs[ox], g = src[ox]; row[t.i0] += t.w0 * g; row[t.i1] += t.w1 * g }
                    let r0 = dx + ty.i0 * W, r1 = dx + ty.i1 * W, w0 = ty.w0, w1 = ty.w1
                    for i in 0..<W { r0[i] += w0 * row[i] }
                    for i in 0..<W { r1[i] += w1 * row[i] }
                }
            }
        }
    }

    /// Nearest-neighbour upsampling: out[oy, ox] = x[oy / f, ox / f].
    /// - Parameters: output: out: [N, C, H*f, W*f]; input: x: [N, C, H, W]
    public static func nearestForward(output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, shape s: Shape) {
        let f = s.factor
        for p in 0..<s.planes {
            let x = input + p * s.height * s.width
            let out = output + p * s.outHeight * s.outWidth
            for oy in 0..<s.outHeight {
                let src = x + (oy / f) * s.width
                let dst = out + oy * s.outWidth
                for ox in 0..<s.outWidth { dst[ox] = src[ox / f] }
            }
        }
    }

    /// Adds the gradient of `nearestForward` into dx (each input sums its f*f copies).
    /// - Parameters: inputGradient: dx: [N, C, H, W]; outputGradient: dout: [N, C, H*f, W*f]
    public static func nearestBackward(inputGradient: UnsafeMutablePointer<Float>, outputGradient: UnsafePointer<Float>,
                                       shape s: Shape) {
        let f = s.factor
        for p in 0..<s.planes {
            let dx = inputGradient + p * s.height * s.width
            let dout = outputGradient + p * s.outHeight * s.outWidth
            for oy in 0..<s.outHeight {
                let dst = dx + (oy / f) * s.width
                let src = dout + oy * s.outWidth
                for ox in 0..<s.outWidth { dst[ox / f] += src[ox] }
            }
        }
    }
}
