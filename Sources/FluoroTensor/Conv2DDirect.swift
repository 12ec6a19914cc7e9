import CFluoroKernels

/// A direct (no im2col) 3x3, stride 1, padding 1 convolution for Cin·Cout up to `directMaxProduct` —
/// the U-Net labeller's levels and HiFT's CNN heads — where im2col + sgemm spends its time writing
/// and packing a column matrix 9x the input. The kernels are C (CFluoroKernels: AVX-512, AVX2 or
/// portable, chosen at run time): the forward keeps three zero-bordered rows per input channel in
/// a ring and accumulates each output row in vector registers, eight output channels at a time
/// (AVX-512), bias and ReLU fused; dx is the same kernel with the flipped, transposed weight; dw
/// nine vector dot products per channel pair over a zero-bordered copy of the input [Cin, H+2, W+2].
/// Same results as the im2col path up to float summation order.
extension Conv2D {
    /// The instruction-set variants of the direct kernels (CFluoroKernels' FK_ISA_*), slowest first.
    public enum DirectISA: Int32, CaseIterable, Sendable {
        case portable = 0, avx2 = 1, avx512 = 2

        /// The best variant this CPU runs (checked once).
        public static let best = DirectISA(rawValue: Int32(fk_best_isa())) ?? .portable
        /// The variants this CPU runs, slowest first.
        public static var available: [DirectISA] { allCases.filter { $0.rawValue <= best.rawValue } }
    }

    /// Which kernels `forward`/`backward` run: chosen per shape (`usesDirect`), or forced (benchmarks:
    /// `.direct` only where `fitsDirect`, else im2col; a forced path needs a workspace of
    /// `paddedCount` (direct) or `columnCount` (im2col) floats per part, not `workspaceCount`).
    public enum Path: Hashable, Sendable { case automatic, direct, im2col }

    /// Largest Cin·Cout that takes the direct path. `fluoro bench conv` (1 thread, AVX-512 kernels
    /// against AVX-512 OpenBLAS, docs/BENCHMARKS.md): up to 8192 (8→8 … 48→16, 96→32, 128→64,
    /// 256→32) the direct kernels win forward and backward at 16–512 px, mostly by 1.5–6x (losses
    /// only on shapes under 0.1 ms); at 16384 and more (128→128, 256→256, 384→128) the backward is
    /// even or loses, as the GEMM's rows and depth grow with Cin·Cout. The AVX2 kernel, timed only
    /// against Haswell OpenBLAS in a C harness, won up to 64→64 but not reliably at 128→64, so it
    /// stops at 4096; the portable C kernel (not timed) keeps the old Swift kernel's 16→16.
    static let directMaxProduct: Int = {
        switch DirectISA.best {
        case .avx512: return 128 * 64
        case .avx2: return 64 * 64
        case .portable: return 16 * 16
        }
    }()

    /// True when the direct kernels can run this shape: 3x3, stride 1, padding 1.
    public static func fitsDirect(_ s: Shape) -> Bool {
        s.kernel == 3 && s.stride == 1 && s.padding == 1
    }

    /// True when `forward`/`backward` use the direct kernels for this shape (`Path.automatic`).
    public static func usesDirect(_ s: Shape) -> Bool {
        fitsDirect(s) && s.inChannels * s.outChannels <= directMaxProduct
    }

    /// True when `path` runs this shape on the direct kernels.
    static func takesDirect(_ s: Shape, path: Path) -> Bool {
        switch path {
        case .automatic: return usesDirect(s)
        case .direct: return fitsDirect(s)
        case .im2col: return false
        }
    }

    /// xp[c, y+1, x+1] = x[c, y, x], zero border. xp: [C, H+2, W+2]; x: [C, H, W]
    static func pad1(_ xp: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, channels: Int, height H: Int, width W: Int) {
        let Wp = W + 2
        for c in 0..<channels {
            let dst = xp + c * (H + 2) * Wp, src = x + c * H * W
            dst.update(repeating: 0, count: Wp)
            for y in 0..<H {
                let row = dst + (y + 1) * Wp
                row[0] = 0
                (row + 1).update(from: src + y * W, count: W)
                row[W + 1] = 0
            }
            (dst + (H + 1) * Wp).update(repeating: 0, count: Wp)
        }
    }

    /// out[o, y, x] = act((accumulate ? out[o, y, x] : 0) + bias[o] + Σ_{c,ky,kx} w[o, c, ky, kx] · x[c, y+ky-1, x+kx-1])
    /// for one image (x zero outside the image: padding 1); act = ReLU with `relu`, else identity.
    /// - Parameters: out: [Cout, H, W]; x: [Cin, H, W]; weight: [Cout, Cin, 3, 3]; bias: [Cout] or nil;
    ///   isa: the kernel variant (tests force one).
    static func direct3x3(out: UnsafeMutablePointer<Float>, input x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                          bias: UnsafePointer<Float>? = nil, inChannels cin: Int, outChannels cout: Int, height H: Int, width W: Int,
                          accumulate: Bool, relu: Bool = false, isa: DirectISA = .best) {
        fk_conv3x3_forward(isa.rawValue, out, x, weight, bias, Int32(cin), Int32(cout), Int32(H), Int32(W),
                           accumulate ? 1 : 0, relu ? 1 : 0)
    }

    /// dw[o, c, ky, kx] += Σ_{y,x} dout[o, y, x] · xp[c, y+ky, x+kx] for one image.
    /// - Parameters: dw: [Cout, Cin, 3, 3]; dout: [Cout, H, W]; xp: padded input [Cin, H+2, W+2]
    static func direct3x3WeightGradient(dw: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, padded xp: UnsafePointer<Float>,
                                        inChannels cin: Int, outChannels cout: Int, height H: Int, width W: Int,
                                        isa: DirectISA = .best) {
        fk_conv3x3_weight_gradient(isa.rawValue, dw, dout, xp, Int32(cin), Int32(cout), Int32(H), Int32(W))
    }

    /// The weight of the input-gradient convolution: wt[c, o, ky, kx] = w[o, c, 2-ky, 2-kx]
    /// (dx = conv3x3(dout, wt), padding 1). wt: [Cin, Cout, 3, 3]; w: [Cout, Cin, 3, 3]
    static func flipTranspose3x3(_ wt: UnsafeMutablePointer<Float>, _ w: UnsafePointer<Float>, inChannels cin: Int, outChannels cout: Int) {
        for o in 0..<cout {
            for c in 0..<cin {
                for k in 0..<9 { wt[(c * cout + o) * 9 + k] = w[(o * cin + c) * 9 + 8 - k] }
            }
        }
    }

    /// Forward of one image on the direct path: out = conv(x) + bias, ReLU'd with `relu`.
    static func directForwardImage(out: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                   bias: UnsafePointer<Float>?, shape s: Shape, relu: Bool) {
        direct3x3(out: out, input: x, weight: weight, bias: bias, inChannels: s.inChannels, outChannels: s.outChannels,
                  height: s.height, width: s.width, accumulate: false, relu: relu)
    }

    /// The dw and dx contributions of one image on the direct path (dx through `flipped`, see
    /// `flipTranspose3x3`; added into dx, or written without `accumulate`). workspace:
    /// `Shape.paddedCount` floats (the zero-bordered input dw reads).
    static func directBackwardImage(dx: UnsafeMutablePointer<Float>?, dw: UnsafeMutablePointer<Float>?, dout: UnsafePointer<Float>,
                                    x: UnsafePointer<Float>, flipped: UnsafePointer<Float>?, shape s: Shape,
                                    workspace: UnsafeMutablePointer<Float>, accumulate: Bool = true) {
        let (H, W) = (s.height, s.width)
        if let dw {
            pad1(workspace, x, channels: s.inChannels, height: H, width: W)
            direct3x3WeightGradient(dw: dw, dout: dout, padded: workspace, inChannels: s.inChannels, outChannels: s.outChannels,
                                    height: H, width: W)
        }
        if let dx, let flipped {
            direct3x3(out: dx, input: dout, weight: flipped, inChannels: s.outChannels, outChannels: s.inChannels,
                      height: H, width: W, accumulate: accumulate)
        }
    }
}
