import CFluoroKernels
/// 2-D convolution over NCHW tensors, as im2col + one sgemm per image (llm.c style: plain
/// forward/backward functions; backward adds into gradients). Matches `torch.nn.Conv2d`
/// (cross-correlation, zero padding, weight [Cout, Cin, k, k]).
public enum Conv2D {
    /// The sizes of one convolution.
    public struct Shape: Equatable, Sendable {
        public var batch: Int
        public var inChannels: Int
        public var outChannels: Int
        public var height: Int
        public var width: Int
        public var kernel: Int
        public var stride: Int
        public var padding: Int

        public init(batch: Int, inChannels: Int, outChannels: Int, height: Int, width: Int,
                    kernel: Int, stride: Int = 1, padding: Int = 0) {
            precondition(kernel >= 1 && stride >= 1 && padding >= 0, "Conv2D: kernel \(kernel), stride \(stride), padding \(padding)")
            self.batch = batch; self.inChannels = inChannels; self.outChannels = outChannels
            self.height = height; self.width = width
            self.kernel = kernel; self.stride = stride; self.padding = padding
            precondition(outHeight >= 1 && outWidth >= 1, "Conv2D: kernel \(kernel) does not fit \(height)x\(width) with padding \(padding)")
        }

        /// Ho = (H + 2 pad - k) / stride + 1
        public var outHeight: Int { (height + 2 * padding - kernel) / stride + 1 }
        /// Wo = (W + 2 pad - k) / stride + 1
        public var outWidth: Int { (width + 2 * padding - kernel) / stride + 1 }
        /// Elements of the input: B * Cin * H * W.
        public var inputCount: Int { batch * inChannels * height * width }
        /// Elements of the output: B * Cout * Ho * Wo.
        public var outputCount: Int { batch * outChannels * outHeight * outWidth }
        /// Elements of the weight: Cout * Cin * k * k.
        public var weightCount: Int { outChannels * inChannels * kernel * kernel }
        /// Rows of the column matrix: Cin * k * k.
        var patch: Int { inChannels * kernel * kernel }
        /// True when the column matrix is the input itself (1x1, stride 1, no padding).
        var isPointwise: Bool { kernel == 1 && stride == 1 && padding == 0 }
        /// Floats of the im2col column matrix [Cin*k*k, Ho*Wo] (0 for a 1x1 convolution).
        public var columnCount: Int { isPointwise ? 0 : patch * outHeight * outWidth }
        /// Floats of the direct path's zero-bordered input [Cin, H+2, W+2] (its weight gradient reads it).
        public var paddedCount: Int { inChannels * (height + 2) * (width + 2) }
        /// Floats of scratch space forward and backward need per parallel part: `paddedCount` on the
        /// direct 3x3 path (`Conv2D.usesDirect`), else `columnCount`.
        public var workspaceCount: Int { Conv2D.usesDirect(self) ? paddedCount : columnCount }
    }

    /// out = conv(x, weight) + bias, or max(0, conv(x, weight) + bias) with `relu`
    /// - Parameters:
    ///   - output: out: [B, Cout, Ho, Wo]
    ///   - input: x: [B, Cin, H, W]
    ///   - weight: w: [Cout, Cin, k, k]
    ///   - bias: b: [Cout], or nil
    ///   - workspace: scratch: `shape.workspaceCount` floats per part (im2col columns or padded planes)
    ///   - relu: apply ReLU to the output (fused into the direct kernel, one pass per image for im2col)
    ///   - path: the kernels (im2col + sgemm or direct 3x3), chosen per shape unless forced
    public static func forward(output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
                               weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                               shape s: Shape, workspace: UnsafeMutablePointer<Float>?, workspaces: Int = 1,
                               relu: Bool = false, path: Path = .automatic) {
        let hw = s.outHeight * s.outWidth
        let direct = takesDirect(s, path: path) && workspace != nil
        let slot = direct ? s.paddedCount : s.columnCount  // workspace floats per part
        forEachImage(s, workspaces: workspaces) { b, part in
            let x = input + b * s.inChannels * s.height * s.width  // [Cin, H, W]
            let out = output + b * s.outChannels * hw               // [Cout, Ho*Wo]
            if direct {
                directForwardImage(out: out, x: x, weight: weight, bias: bias, shape: s, relu: relu)
                return
            }
            let columns: UnsafePointer<Float>                       // [Cin*k*k, Ho*Wo]
            if s.isPointwise { columns = x } else {
                guard let workspace else { preconditionFailure("Conv2D.forward needs a workspace of \(s.workspaceCount) floats") }
                let mine = workspace + part * slot
                im2col(columns: mine, image: x, shape: s)
                columns = UnsafePointer(mine)
            }
            if let bias {
                for o in 0..<s.outChannels { (out + o * hw).update(repeating: bias[o], count: hw) }
            }
            // out[Cout, HoWo] (+)= w[Cout, CKK] * columns[CKK, HoWo]
            BLAS.sgemm(m: s.outChannels, n: hw, k: s.patch, a: weight, b: columns, beta: bias == nil ? 0 : 1, c: out)
            if relu { ReLU.forward(output: out, input: out, count: s.outChannels * hw) }
        }
    }

    /// Runs `body(image, part)` for every image of the batch: in `min(workspaces, threads, batch)`
    /// parallel parts (each with its own workspace slot `part`), or in order on one thread.
    static func forEachImage(_ s: Shape, workspaces: Int, _ body: (Int, Int) -> Void) {
        let parts = max(1, min(workspaces, Parallel.threads, s.batch))
        if parts == 1 { for b in 0..<s.batch { body(b, 0) }; return }
        Parallel.forEach(parts) { part in
            for b in stride(from: part, to: s.batch, by: parts) { body(b, part) }
        }
    }

    /// Adds the gradients of `forward` into dx, dw and db (each optional).
    /// - Parameters:
    ///   - inputGradient: dx: [B, Cin, H, W], or nil
    ///   - weightGradient: dw: [Cout, Cin, k, k], or nil
    ///   - biasGradient: db: [Cout], or nil
    ///   - outputGradient: dout: [B, Cout, Ho, Wo]
    ///   - input: x: [B, Cin, H, W]
    ///   - weight: w: [Cout, Cin, k, k]
    ///   - workspace: scratch: `shape.workspaceCount` floats per part (im2col columns or padded planes)
    ///   - path: the kernels (im2col + sgemm or direct 3x3), chosen per shape unless forced
    ///   - overwriteInputGradient: write dx instead of adding into it (saves zeroing it first)
    public static func backward(inputGradient: UnsafeMutablePointer<Float>?, weightGradient: UnsafeMutablePointer<Float>?,
                                biasGradient: UnsafeMutablePointer<Float>?, outputGradient: UnsafePointer<Float>,
                                input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                shape s: Shape, workspace: UnsafeMutablePointer<Float>?, workspaces: Int = 1,
                                path: Path = .automatic, overwriteInputGradient: Bool = false) {
        let parts = max(1, min(workspaces, Parallel.threads, s.batch))
        // With several parts each accumulates its own dw and db, added in part order at the end.
        let partials = parts > 1 ? FloatBuffer(count: parts * (s.weightCount + s.outChannels)) : nil
        let direct = takesDirect(s, path: path) && workspace != nil
        let slot = direct ? s.paddedCount : s.columnCount  // workspace floats per part
        let flipped: FloatBuffer? = direct && inputGradient != nil ? FloatBuffer(count: s.weightCount) : nil
        if let flipped { flipTranspose3x3(flipped.pointer, weight, inChannels: s.inChannels, outChannels: s.outChannels) }
        forEachImage(s, workspaces: workspaces) { b, part in
            let dw = partials.map { $0.pointer + part * (s.weightCount + s.outChannels) } ?? weightGradient
            let db = partials.map { $0.pointer + part * (s.weightCount + s.outChannels) + s.weightCount } ?? biasGradient
            if direct, let workspace {
                let hw = s.outHeight * s.outWidth, imageCount = s.inChannels * s.height * s.width
                let dout = outputGradient + b * s.outChannels * hw
                if let db = biasGradient == nil ? nil : db {
                    for o in 0..<s.outChannels { db[o] += VectorMath.sum(dout + o * hw, hw) }
                }
                directBackwardImage(dx: inputGradient.map { $0 + b * imageCount }, dw: weightGradient == nil ? nil : dw,
                                    dout: dout, x: input + b * imageCount, flipped: flipped.map { UnsafePointer($0.pointer) },
                                    shape: s, workspace: workspace + part * slot, accumulate: !overwriteInputGradient)
                return
            }
            if overwriteInputGradient, let dx = inputGradient {
                let imageCount = s.inChannels * s.height * s.width
                (dx + b * imageCount).update(repeating: 0, count: imageCount)
            }
            backwardImage(b, dx: inputGradient, dw: weightGradient == nil ? nil : dw, db: biasGradient == nil ? nil : db,
                          dout: outputGradient, input: input, weight: weight, shape: s,
                          workspace: workspace.map { $0 + part * slot })
        }
        guard let partials else { return }
        for part in 0..<parts {
            let base = partials.pointer + part * (s.weightCount + s.outChannels)
            if let dw = weightGradient { VectorMath.axpy(1, base, dw, s.weightCount) }
            if let db = biasGradient { for o in 0..<s.outChannels { db[o] += base[s.weightCount + o] } }
        }
    }

    /// The gradients of image `b`, added into dx (its own slice), dw and db.
    static func backwardImage(_ b: Int, dx: UnsafeMutablePointer<Float>?, dw: UnsafeMutablePointer<Float>?,
                              db: UnsafeMutablePointer<Float>?, dout outputGradient: UnsafePointer<Float>,
                              input: UnsafePointer<Float>, weight: UnsafePointer<Float>, shape s: Shape,
                              workspace: UnsafeMutablePointer<Float>?) {
        let hw = s.outHeight * s.outWidth
        let imageCount = s.inChannels * s.height * s.width
        let x = input + b * imageCount                      // [Cin, H, W]
        let dout = outputGradient + b * s.outChannels * hw   // [Cout, Ho*Wo]
        if let db {
            for o in 0..<s.outChannels { db[o] += VectorMath.sum(dout + o * hw, hw) }
        }
        if let dw {
            let columns: UnsafePointer<Float>
            if s.isPointwise { columns = x } else {
                guard let workspace else { preconditionFailure("Conv2D.backward needs a workspace of \(s.workspaceCount) floats") }
                im2col(columns: workspace, image: x, shape: s)
                columns = UnsafePointer(workspace)
            }
            // dw[Cout, CKK] += dout[Cout, HoWo] * columns^T[HoWo, CKK]
            BLAS.sgemm(transB: true, m: s.outChannels, n: s.patch, k: hw, a: dout, b: columns, beta: 1, c: dw)
        }
        if let dx {
            let dxImage = dx + b * imageCount
            if s.isPointwise {
                // dx[Cin, HW] += w^T[Cin, Cout] * dout[Cout, HW]
                BLAS.sgemm(transA: true, m: s.inChannels, n: hw, k: s.outChannels, a: weight, b: dout, beta: 1, c: dxImage)
            } else {
                guard let workspace else { preconditionFailure("Conv2D.backward needs a workspace of \(s.workspaceCount) floats") }
                // dcolumns[CKK, HoWo] = w^T[CKK, Cout] * dout[Cout, HoWo], then scattered back.
                BLAS.sgemm(transA: true, m: s.patch, n: hw, k: s.outChannels, a: weight, b: dout, beta: 0, c: workspace)
                col2imAdd(image: dxImage, columns: workspace, shape: s)
            }
        }
    }

    /// columns[(c*k + ky)*k + kx, oy*Wo + ox] = x[c, oy*stride - pad + ky, ox*stride - pad + kx] (0 outside).
    /// - Parameters: columns: [Cin*k*k, Ho*Wo]; image: x: [Cin, H, W]
    static func im2col(columns: UnsafeMutablePointer<Float>, image: UnsafePointer<Float>, shape s: Shape) {
        if s.kernel == 3 && s.stride == 1 && s.padding == 1 {  // CFluoroKernels: plain loops, no call per row
            return fk_im2col3x3(columns, image, Int32(s.inChannels), Int32(s.height), Int32(s.width))
        }
        let (H, W, Ho, Wo, k) = (s.height, s.width, s.outHeight, s.outWidth, s.kernel)
        var row = columns
        for c in 0..<s.inChannels {
            let plane = image + c * H * W
            for ky in 0..<k {
                for kx in 0..<k {
                    for oy in 0..<Ho {
                        let y = oy * s.stride - s.padding + ky
                        let dst = row + oy * Wo
                        guard y >= 0 && y < H else { dst.update(repeating: 0, count: Wo); continue }
                        let src = plane + y * W
                        if s.stride == 1 {
                            // xx = ox - pad + kx: a contiguous run of valid columns, zeros around it.
                            let shift = kx - s.padding
                            let lo = min(Wo, max(0, -shift)), hi = max(lo, min(Wo, W - shift))
                            if lo > 0 { dst.update(repeating: 0, count: lo) }
                            if hi > lo { (dst + lo).update(from: src + lo + shift, count: hi - lo) }
                            if hi < Wo { (dst + hi).update(repeating: 0, count: Wo - hi) }
                        } else {
                            for ox in 0..<Wo {
                                let xx = ox * s.stride - s.padding + kx
                                dst[ox] = xx >= 0 && xx < W ? src[xx] : 0
                            }
                        }
                    }
                    row += Ho * Wo
                }
            }
        }
    }

    /// The adjoint of `im2col`: x[c, y, x] += columns[...] for every patch position that read it.
    /// - Parameters: image: dx: [Cin, H, W]; columns: [Cin*k*k, Ho*Wo]
    static func col2imAdd(image: UnsafeMutablePointer<Float>, columns: UnsafePointer<Float>, shape s: Shape) {
        if s.kernel == 3 && s.stride == 1 && s.padding == 1 {
            return fk_col2im3x3_add(image, columns, Int32(s.inChannels), Int32(s.height), Int32(s.width))
        }
        let (H, W, Ho, Wo, k) = (s.height, s.width, s.outHeight, s.outWidth, s.kernel)
        var row = columns
        for c in 0..<s.inChannels {
            let plane = image + c * H * W
            for ky in 0..<k {
                for kx in 0..<k {
                    for oy in 0..<Ho {
                        let y = oy * s.stride - s.padding + ky
                        guard y >= 0 && y < H else { continue }
                        let src = row + oy * Wo
                        let dst = plane + y * W
                        if s.stride == 1 {
                            let shift = kx - s.padding
                            let lo = min(Wo, max(0, -shift)), hi = max(lo, min(Wo, W - shift))
                            if hi > lo { VectorMath.axpy(1, src + lo, dst + lo + shift, hi - lo) }
                            continue
                        }
                        for ox in 0..<Wo {
                            let xx = ox * s.stride - s.padding + kx
                            if xx >= 0 && xx < W { dst[xx] += src[ox] }
                        }
                    }
                    row += Ho * Wo
                }
            }
        }
    }
}
