/// A direct (no im2col) 3x3, stride 1, padding 1 convolution for small channel counts — the CNN
/// heads' late stages (8–16 channels at 64–128 px), where im2col + sgemm spends its time writing
/// and packing a column matrix 9x the input for a GEMM with only 8–16 rows. The input is copied
/// once into a zero-bordered plane [C, H+2, W+2]; each output row is accumulated in SIMD registers,
/// four output channels at a time. Same results as the im2col path up to float summation order.
extension Conv2D {
    typealias V8 = SIMD8<Float>

    /// Largest channel count (in or out) that takes the direct path. Measured (1 thread, this VM's
    /// AVX-512 OpenBLAS against this SSE kernel): at 8–16 channels the two are about even per image
    /// (the direct path saves im2col/col2im), at 32→16 channels im2col + sgemm is 1.5x faster.
    static let directMaxChannels = 16

    /// True when `forward`/`backward` use the direct kernels for this shape.
    static func usesDirect(_ s: Shape) -> Bool {
        guard s.kernel == 3 && s.stride == 1 && s.padding == 1 && s.width % 8 == 0 else { return false }
        guard s.inChannels % 4 == 0 && s.outChannels % 4 == 0 else { return false }
        guard s.inChannels <= directMaxChannels && s.outChannels <= directMaxChannels else { return false }
        // The workspace holds the padded input and the padded output gradient.
        return (s.inChannels + s.outChannels) * (s.height + 2) * (s.width + 2) <= s.workspaceCount
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

    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> V8 {
        UnsafeRawPointer(p).loadUnaligned(as: V8.self)
    }

    @inline(__always) static func store(_ v: V8, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: V8.self)
    }

    /// out[o, y, x] (+)= Σ_{c,ky,kx} w[o, c, ky, kx] · xp[c, y+ky, x+kx] for one image.
    /// - Parameters: out: [Cout, H, W]; xp: padded input [Cin, H+2, W+2]; weight: [Cout, Cin, 3, 3];
    ///   accumulate: add into `out` (else overwrite). Needs Cout % 4 == 0 and W % 8 == 0.
    static func direct3x3(out: UnsafeMutablePointer<Float>, padded xp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                          inChannels cin: Int, outChannels cout: Int, height H: Int, width W: Int, accumulate: Bool) {
        let Wp = W + 2, plane = (H + 2) * Wp, hw = H * W
        for o0 in stride(from: 0, to: cout, by: 4) {
            let w0 = weight + o0 * cin * 9, w1 = w0 + cin * 9, w2 = w1 + cin * 9, w3 = w2 + cin * 9
            let out0 = out + o0 * hw, out1 = out0 + hw, out2 = out1 + hw, out3 = out2 + hw
            for y in 0..<H {
                for x in stride(from: 0, to: W, by: 8) {
                    let at = y * W + x
                    var a0 = V8(), a1 = V8(), a2 = V8(), a3 = V8()
                    if accumulate { a0 = load(out0 + at); a1 = load(out1 + at); a2 = load(out2 + at); a3 = load(out3 + at) }
                    for c in 0..<cin {
                        let src = xp + c * plane + y * Wp + x
                        let t0 = c * 9
                        for ky in 0..<3 {
                            let row = src + ky * Wp
                            for kx in 0..<3 {
                                let s = load(row + kx), t = t0 + ky * 3 + kx
                                a0 += w0[t] * s; a1 += w1[t] * s; a2 += w2[t] * s; a3 += w3[t] * s
                            }
                        }
                    }
                    store(a0, out0 + at); store(a1, out1 + at); store(a2, out2 + at); store(a3, out3 + at)
                }
            }
        }
    }

    /// dw[o, c, ky, kx] += Σ_{y,x} dout[o, y, x] · xp[c, y+ky, x+kx] for one image.
    /// - Parameters: dw: [Cout, Cin, 3, 3]; dout: [Cout, H, W]; xp: padded input [Cin, H+2, W+2]
    static func direct3x3WeightGradient(dw: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, padded xp: UnsafePointer<Float>,
                                        inChannels cin: Int, outChannels cout: Int, height H: Int, width W: Int) {
        let Wp = W + 2, plane = (H + 2) * Wp, hw = H * W
        for o in 0..<cout {
            let d0 = dout + o * hw
            for c in 0..<cin {
                let xc = xp + c * plane
                var a00 = V8(), a01 = V8(), a02 = V8(), a10 = V8(), a11 = V8(), a12 = V8(), a20 = V8(), a21 = V8(), a22 = V8()
                for y in 0..<H {
                    let r0 = xc + y * Wp, r1 = r0 + Wp, r2 = r1 + Wp, dr = d0 + y * W
                    for x in stride(from: 0, to: W, by: 8) {
                        let d = load(dr + x)
                        a00 += d * load(r0 + x); a01 += d * load(r0 + x + 1); a02 += d * load(r0 + x + 2)
                        a10 += d * load(r1 + x); a11 += d * load(r1 + x + 1); a12 += d * load(r1 + x + 2)
                        a20 += d * load(r2 + x); a21 += d * load(r2 + x + 1); a22 += d * load(r2 + x + 2)
                    }
                }
                let g = dw + (o * cin + c) * 9
                g[0] += a00.sum(); g[1] += a01.sum(); g[2] += a02.sum()
                g[3] += a10.sum(); g[4] += a11.sum(); g[5] += a12.sum()
                g[6] += a20.sum(); g[7] += a21.sum(); g[8] += a22.sum()
            }
        }
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

    /// Forward of one image on the direct path (bias already in `out` when `accumulate`).
    static func directForwardImage(out: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                   shape s: Shape, workspace: UnsafeMutablePointer<Float>, accumulate: Bool) {
        pad1(workspace, x, channels: s.inChannels, height: s.height, width: s.width)
        direct3x3(out: out, padded: workspace, weight: weight, inChannels: s.inChannels, outChannels: s.outChannels,
                  height: s.height, width: s.width, accumulate: accumulate)
    }

    /// The dw and dx contributions of one image on the direct path (dx through `flipped`, see
    /// `flipTranspose3x3`). workspace: (Cin + Cout) * (H+2) * (W+2) floats.
    static func directBackwardImage(dx: UnsafeMutablePointer<Float>?, dw: UnsafeMutablePointer<Float>?, dout: UnsafePointer<Float>,
                                    x: UnsafePointer<Float>, flipped: UnsafePointer<Float>?, shape s: Shape,
                                    workspace: UnsafeMutablePointer<Float>) {
        let (H, W) = (s.height, s.width)
        if let dw {
            pad1(workspace, x, channels: s.inChannels, height: H, width: W)
            direct3x3WeightGradient(dw: dw, dout: dout, padded: workspace, inChannels: s.inChannels, outChannels: s.outChannels,
                                    height: H, width: W)
        }
        if let dx, let flipped {
            let dp = workspace + s.inChannels * (H + 2) * (W + 2)
            pad1(dp, dout, channels: s.outChannels, height: H, width: W)
            direct3x3(out: dx, padded: dp, weight: flipped, inChannels: s.outChannels, outChannels: s.inChannels,
                      height: H, width: W, accumulate: true)
        }
    }
}
