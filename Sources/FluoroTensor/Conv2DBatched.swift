/// The im2col path for small images (e.g. HiFT's heads on the 8x8 token map, 192 → 64 channels):
/// one product over the whole batch, the images' columns side by side, instead of one thin product
/// per image (64 columns each), which OpenBLAS runs at half speed. Same results as the per-image
/// path up to float summation order.
extension Conv2D {
    /// Output pixels per image up to which the im2col path batches its products.
    static let batchedMaxPixels = 128

    /// True when `forward`/`backward` (`Path.automatic`) run this shape on the batched path: an
    /// im2col shape (neither direct nor 1x1) of several images of at most `batchedMaxPixels` pixels.
    public static func usesBatched(_ s: Shape) -> Bool {
        !usesDirect(s) && !s.isPointwise && s.batch > 1 && s.outHeight * s.outWidth <= batchedMaxPixels
    }

    /// True when `path` runs this shape on the batched path.
    static func takesBatched(_ s: Shape, path: Path) -> Bool {
        switch path {
        case .automatic: return usesBatched(s)
        case .batched: return !s.isPointwise
        case .direct, .im2col: return false
        }
    }

    /// Forward over the batch: columns [CKK, B·HoWo] (image b at columns b·HoWo), one product into
    /// [Cout, B·HoWo], then each image's block to out [B, Cout, HoWo] with bias (and ReLU).
    /// workspace: `Shape.batchedCount` floats.
    static func batchedForward(output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
                               weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                               shape s: Shape, workspace: UnsafeMutablePointer<Float>, relu: Bool) {
        let hw = s.outHeight * s.outWidth, n = s.batch * hw, image = s.inChannels * s.height * s.width
        let columns = workspace, product = workspace + s.patch * n  // [CKK, n], [Cout, n]
        Parallel.forEach(s.batch) { b in im2col(columns: columns + b * hw, image: input + b * image, shape: s, ld: n) }
        ParallelGEMM.sgemm(m: s.outChannels, n: n, k: s.patch, a: weight, b: columns, c: product)
        Parallel.forEach(s.batch) { b in
            for o in 0..<s.outChannels {
                let src = product + o * n + b * hw, dst = output + (b * s.outChannels + o) * hw, add = bias?[o] ?? 0
                for i in 0..<hw { dst[i] = relu ? max(0, src[i] + add) : src[i] + add }
            }
        }
    }

    /// Backward over the batch: dout gathered to [Cout, B·HoWo]; db += its row sums; dw += it ·
    /// columnsᵀ; dcolumns = wᵀ · it, scattered back into each image's dx.
    /// workspace: `Shape.batchedCount` floats.
    static func batchedBackward(inputGradient dx: UnsafeMutablePointer<Float>?, weightGradient dw: UnsafeMutablePointer<Float>?,
                                biasGradient db: UnsafeMutablePointer<Float>?, outputGradient dout: UnsafePointer<Float>,
                                input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                shape s: Shape, workspace: UnsafeMutablePointer<Float>) {
        let hw = s.outHeight * s.outWidth, n = s.batch * hw, image = s.inChannels * s.height * s.width
        let columns = workspace, gathered = workspace + s.patch * n  // [CKK, n], [Cout, n]
        Parallel.forEach(s.batch) { b in
            for o in 0..<s.outChannels {
                (gathered + o * n + b * hw).update(from: dout + (b * s.outChannels + o) * hw, count: hw)
            }
        }
        if let db { for o in 0..<s.outChannels { db[o] += VectorMath.sum(gathered + o * n, n) } }
        if let dw {
            Parallel.forEach(s.batch) { b in im2col(columns: columns + b * hw, image: input + b * image, shape: s, ld: n) }
            ParallelGEMM.sgemm(transB: true, m: s.outChannels, n: s.patch, k: n, a: gathered, b: columns, beta: 1, c: dw)
        }
        guard let dx else { return }
        ParallelGEMM.sgemm(transA: true, m: s.patch, n: n, k: s.outChannels, a: weight, b: gathered, c: columns)
        Parallel.forEach(s.batch) { b in col2imAdd(image: dx + b * image, columns: columns + b * hw, shape: s, ld: n) }
    }
}

extension Conv2D.Shape {
    /// Floats of the batched path's workspace (`Conv2D.usesBatched`): columns [CKK, B·HoWo] and the
    /// products' [Cout, B·HoWo], for the whole call.
    public var batchedCount: Int { (patch + outChannels) * batch * outHeight * outWidth }
}
