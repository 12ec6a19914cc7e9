import FluoroSupport
import Testing
@testable import FluoroTensor

@Suite struct Conv2DTests {
    /// A direct 7-loop convolution (torch.nn.Conv2d semantics) to check forward against.
    static func naive(_ x: [Float], _ w: [Float], _ b: [Float]?, _ s: Conv2D.Shape) -> [Float] {
        let (Ho, Wo, k) = (s.outHeight, s.outWidth, s.kernel)
        var out = [Float](repeating: 0, count: s.outputCount)
        for n in 0..<s.batch { for o in 0..<s.outChannels { for oy in 0..<Ho { for ox in 0..<Wo {
            var sum = Double(b?[o] ?? 0)
            for c in 0..<s.inChannels { for ky in 0..<k { for kx in 0..<k {
                let y = oy * s.stride - s.padding + ky, xx = ox * s.stride - s.padding + kx
                guard y >= 0, y < s.height, xx >= 0, xx < s.width else { continue }
                sum += Double(x[((n * s.inChannels + c) * s.height + y) * s.width + xx])
                     * Double(w[((o * s.inChannels + c) * k + ky) * k + kx])
            } } }
            out[((n * s.outChannels + o) * Ho + oy) * Wo + ox] = Float(sum)
        } } } }
        return out
    }

    static func forward(_ x: [Float], _ w: [Float], _ b: [Float]?, _ s: Conv2D.Shape, relu: Bool = false) -> [Float] {
        var out = [Float](repeating: .nan, count: s.outputCount)
        var work = [Float](repeating: 0, count: s.workspaceCount)
        out.withUnsafeMutableBufferPointer { o in work.withUnsafeMutableBufferPointer { ws in
            x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in
                if let b {
                    b.withUnsafeBufferPointer { bp in
                        Conv2D.forward(output: o.baseAddress!, input: xp.baseAddress!, weight: wp.baseAddress!,
                                       bias: bp.baseAddress!, shape: s, workspace: ws.baseAddress, relu: relu)
                    }
                } else {
                    Conv2D.forward(output: o.baseAddress!, input: xp.baseAddress!, weight: wp.baseAddress!,
                                   bias: nil, shape: s, workspace: ws.baseAddress, relu: relu)
                }
            } }
        } }
        return out
    }

    static let shapes: [Conv2D.Shape] = [
        .init(batch: 2, inChannels: 3, outChannels: 4, height: 7, width: 6, kernel: 3, stride: 1, padding: 1),
        .init(batch: 1, inChannels: 2, outChannels: 3, height: 8, width: 7, kernel: 3, stride: 2, padding: 1),
        .init(batch: 2, inChannels: 2, outChannels: 2, height: 5, width: 5, kernel: 2, stride: 2, padding: 0),
        .init(batch: 2, inChannels: 3, outChannels: 2, height: 4, width: 5, kernel: 1),  // pointwise path
        .init(batch: 1, inChannels: 1, outChannels: 2, height: 6, width: 6, kernel: 5, stride: 1, padding: 2),
        // The direct 3x3 path (Conv2DDirect): channel counts divisible by 4, width by 8.
        .init(batch: 2, inChannels: 4, outChannels: 8, height: 5, width: 8, kernel: 3, stride: 1, padding: 1),
        .init(batch: 1, inChannels: 8, outChannels: 4, height: 3, width: 16, kernel: 3, stride: 1, padding: 1),
    ]

    @Test(arguments: shapes)
    func forwardMatchesDirectConvolution(shape s: Conv2D.Shape) {
        var rng = SplitMix64(seed: 11)
        let x = SpatialGradientCheck.random(s.inputCount, &rng)
        let w = SpatialGradientCheck.random(s.weightCount, &rng)
        let b = SpatialGradientCheck.random(s.outChannels, &rng)
        for bias in [b, nil] {
            let got = Self.forward(x, w, bias, s), want = Self.naive(x, w, bias, s)
            let worst = zip(got, want).map { abs($0 - $1) }.max() ?? .nan
            #expect(worst <= 1e-5, "\(s) bias \(bias != nil): \(worst)")
        }
        // relu: true is max(0, .) of the same output, on either path.
        let got = Self.forward(x, w, b, s, relu: true), want = Self.naive(x, w, b, s).map { max(0, $0) }
        #expect(zip(got, want).allSatisfy { abs($0 - $1) <= 1e-5 }, "\(s) relu")
    }

    @Test(arguments: shapes)
    func gradientsMatchFiniteDifferences(shape s: Conv2D.Shape) {
        var rng = SplitMix64(seed: 5)
        let x = SpatialGradientCheck.random(s.inputCount, &rng)
        let w = SpatialGradientCheck.random(s.weightCount, &rng)
        let b = SpatialGradientCheck.random(s.outChannels, &rng)
        let r = SpatialGradientCheck.random(s.outputCount, &rng)
        // Gradients start non-zero: backward must add, not overwrite.
        let start: Float = 0.5
        var dx = [Float](repeating: start, count: s.inputCount)
        var dw = [Float](repeating: start, count: s.weightCount)
        var db = [Float](repeating: start, count: s.outChannels)
        var work = [Float](repeating: 0, count: s.workspaceCount)
        dx.withUnsafeMutableBufferPointer { dxp in dw.withUnsafeMutableBufferPointer { dwp in
            db.withUnsafeMutableBufferPointer { dbp in work.withUnsafeMutableBufferPointer { ws in
                Conv2D.backward(inputGradient: dxp.baseAddress, weightGradient: dwp.baseAddress, biasGradient: dbp.baseAddress,
                                outputGradient: r, input: x, weight: w, shape: s, workspace: ws.baseAddress)
            } }
        } }
        let dot = SpatialGradientCheck.dot
        let ex = SpatialGradientCheck.worstError(values: x, analytic: dx.map { $0 - start }) { dot(Self.forward($0, w, b, s), r) }
        let ew = SpatialGradientCheck.worstError(values: w, analytic: dw.map { $0 - start }) { dot(Self.forward(x, $0, b, s), r) }
        let eb = SpatialGradientCheck.worstError(values: b, analytic: db.map { $0 - start }) { dot(Self.forward(x, w, $0, s), r) }
        #expect(ex.error < 2e-3, "dx[\(ex.index)] off by \(ex.error) for \(s)")
        #expect(ew.error < 2e-3, "dw[\(ew.index)] off by \(ew.error) for \(s)")
        #expect(eb.error < 2e-3, "db[\(eb.index)] off by \(eb.error) for \(s)")
    }

    @Test func outputSizes() {
        let s = Conv2D.Shape(batch: 1, inChannels: 1, outChannels: 1, height: 9, width: 8, kernel: 3, stride: 2, padding: 1)
        #expect(s.outHeight == 5 && s.outWidth == 4)
        #expect(Conv2D.Shape(batch: 1, inChannels: 4, outChannels: 2, height: 3, width: 3, kernel: 1).workspaceCount == 0)
    }
}

/// Images of a batch split over threads (each part its own workspace and dw/db partial sums) give
/// the serial results: forward and dx bit for bit, dw and db to rounding.
@Suite struct Conv2DParallelTests {
    @Test func parallelPartsMatchSerial() {
        var rng = SplitMix64(seed: 21)
        let s = Conv2D.Shape(batch: 5, inChannels: 3, outChannels: 4, height: 9, width: 7, kernel: 3, padding: 1)
        let x = GradientCheck.random(s.inputCount, &rng), w = GradientCheck.random(s.weightCount, &rng)
        let b = GradientCheck.random(4, &rng), dout = GradientCheck.random(s.outputCount, &rng)
        func run(threads: Int, parts: Int) -> (out: [Float], dx: [Float], dw: [Float], db: [Float]) {
            Parallel.withThreads(threads) {
                let out = FloatBuffer(count: s.outputCount), work = FloatBuffer(count: s.workspaceCount * parts)
                let dx = FloatBuffer(count: s.inputCount), dw = FloatBuffer(count: s.weightCount), db = FloatBuffer(count: 4)
                Conv2D.forward(output: out.pointer, input: x.pointer, weight: w.pointer, bias: b.pointer, shape: s,
                               workspace: work.pointer, workspaces: parts)
                Conv2D.backward(inputGradient: dx.pointer, weightGradient: dw.pointer, biasGradient: db.pointer,
                                outputGradient: dout.pointer, input: x.pointer, weight: w.pointer, shape: s,
                                workspace: work.pointer, workspaces: parts)
                return (out.array, dx.array, dw.array, db.array)
            }
        }
        let serial = run(threads: 1, parts: 1), parallel = run(threads: 2, parts: 2)
        #expect(parallel.out == serial.out && parallel.dx == serial.dx)
        #expect(zip(parallel.dw, serial.dw).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) })
        #expect(zip(parallel.db, serial.db).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) })
        #expect(zip(serial.out, Conv2DTests.naive(x.array, w.array, b.array, s)).allSatisfy { abs($0 - $1) < 1e-5 })
    }
}

/// The direct 3x3 kernels (small channel counts) give the im2col + sgemm results: forward, dx, dw
/// and db, to float rounding, over a batch and with bias.
@Suite struct Conv2DDirectTests {
    static let shapes: [Conv2D.Shape] = [(4, 8, 6, 8), (8, 8, 16, 16), (16, 8, 8, 24), (8, 16, 7, 8), (3, 6, 5, 13), (48, 16, 6, 20),
        // the bench tracker head's direct stages
        (64, 32, 16, 16), (32, 16, 32, 32), (16, 8, 64, 64), (8, 8, 128, 128)].map { cin, cout, h, w in
        Conv2D.Shape(batch: 3, inChannels: cin, outChannels: cout, height: h, width: w, kernel: 3, padding: 1)
    }

    @Test(arguments: shapes)
    func directMatchesIm2col(shape s: Conv2D.Shape) {
        let (cin, cout, h, w) = (s.inChannels, s.outChannels, s.height, s.width)
        #expect(Conv2D.usesDirect(s))
        var rng = SplitMix64(seed: 31)
        let x = GradientCheck.random(s.inputCount, &rng), wt = GradientCheck.random(s.weightCount, &rng)
        let b = GradientCheck.random(cout, &rng), dout = GradientCheck.random(s.outputCount, &rng)
        #expect(s.workspaceCount == s.paddedCount)
        let work = FloatBuffer(count: max(s.workspaceCount, s.columnCount))  // im2col's columns too, for the reference
        // The direct path, through the public entry points.
        let out = FloatBuffer(count: s.outputCount)
        Conv2D.forward(output: out.pointer, input: x.pointer, weight: wt.pointer, bias: b.pointer, shape: s, workspace: work.pointer)
        let dx = FloatBuffer(count: s.inputCount), dw = FloatBuffer(count: s.weightCount), db = FloatBuffer(count: cout)
        dx.pointer.update(repeating: 0.25, count: s.inputCount); dw.pointer.update(repeating: 0.25, count: s.weightCount)
        Conv2D.backward(inputGradient: dx.pointer, weightGradient: dw.pointer, biasGradient: db.pointer, outputGradient: dout.pointer,
                        input: x.pointer, weight: wt.pointer, shape: s, workspace: work.pointer)
        // The im2col path, image by image.
        let hw = h * w
        let refOut = FloatBuffer(count: s.outputCount)
        for n in 0..<3 {
            let o = refOut.pointer + n * cout * hw
            for c in 0..<cout { (o + c * hw).update(repeating: b.pointer[c], count: hw) }
            Conv2D.im2col(columns: work.pointer, image: x.pointer + n * cin * hw, shape: s)
            BLAS.sgemm(m: cout, n: hw, k: s.patch, a: wt.pointer, b: work.pointer, beta: 1, c: o)
        }
        let refDx = FloatBuffer(count: s.inputCount), refDw = FloatBuffer(count: s.weightCount), refDb = FloatBuffer(count: cout)
        refDx.pointer.update(repeating: 0.25, count: s.inputCount); refDw.pointer.update(repeating: 0.25, count: s.weightCount)
        for n in 0..<3 {
            Conv2D.backwardImage(n, dx: refDx.pointer, dw: refDw.pointer, db: refDb.pointer, dout: dout.pointer, input: x.pointer,
                                 weight: wt.pointer, shape: s, workspace: work.pointer)
        }
        func close(_ a: [Float], _ r: [Float]) -> Bool { zip(a, r).allSatisfy { abs($0 - $1) <= 1e-4 * max(1, abs($1)) } }
        #expect(close(out.array, refOut.array), "forward \(s)")
        #expect(close(dx.array, refDx.array), "dx \(s)")
        #expect(close(dw.array, refDw.array), "dw \(s)")
        #expect(close(db.array, refDb.array), "db \(s)")
        #expect(zip(out.array, Conv2DTests.naive(x.array, wt.array, b.array, s)).allSatisfy { abs($0 - $1) < 1e-4 })
    }

    /// Each kernel variant this CPU runs (AVX-512, AVX2) gives the portable variant's forward and
    /// dw, also at widths that end mid-vector and channel counts that leave blocks of 4, 2 and 1.
    @Test(arguments: [[4, 8, 6, 8], [3, 5, 5, 13], [1, 16, 9, 33], [48, 16, 10, 40], [13, 7, 3, 17], [16, 12, 4, 64]])
    func variantsMatchPortable(sizes: [Int]) {
        let (cin, cout, h, w) = (sizes[0], sizes[1], sizes[2], sizes[3])
        var rng = SplitMix64(seed: 41)
        let x = GradientCheck.random(cin * h * w, &rng), wt = GradientCheck.random(cout * cin * 9, &rng)
        let xp = FloatBuffer(count: cin * (h + 2) * (w + 2))  // x zero-bordered, for dw
        Conv2D.pad1(xp.pointer, x.pointer, channels: cin, height: h, width: w)
        let dout = GradientCheck.random(cout * h * w, &rng)
        let bias = GradientCheck.random(cout, &rng)
        func run(_ isa: Conv2D.DirectISA) -> (out: [Float], fused: [Float], dw: [Float]) {
            let out = FloatBuffer(count: cout * h * w), fused = FloatBuffer(count: cout * h * w), dw = FloatBuffer(count: cout * cin * 9)
            out.pointer.update(repeating: 0.5, count: out.count); dw.pointer.update(repeating: 0.5, count: dw.count)
            // dx's use: add into out; the forward's: bias and ReLU fused, out overwritten.
            Conv2D.direct3x3(out: out.pointer, input: x.pointer, weight: wt.pointer, inChannels: cin, outChannels: cout,
                             height: h, width: w, accumulate: true, isa: isa)
            Conv2D.direct3x3(out: fused.pointer, input: x.pointer, weight: wt.pointer, bias: bias.pointer, inChannels: cin,
                             outChannels: cout, height: h, width: w, accumulate: false, relu: true, isa: isa)
            Conv2D.direct3x3WeightGradient(dw: dw.pointer, dout: dout.pointer, padded: xp.pointer, inChannels: cin,
                                           outChannels: cout, height: h, width: w, isa: isa)
            return (out.array, fused.array, dw.array)
        }
        let portable = run(.portable)
        #expect(Conv2D.DirectISA.available.first == .portable)
        func close(_ a: [Float], _ r: [Float]) -> Bool { zip(a, r).allSatisfy { abs($0 - $1) <= 1e-4 * max(1, abs($1)) } }
        // The portable fused output is the unfused one, minus the 0.5 it started from, plus bias, ReLU'd.
        let hw = h * w
        let expected = portable.out.indices.map { i in max(0, portable.out[i] - 0.5 + bias.pointer[i / hw]) }
        #expect(close(portable.fused, expected), "fused bias + ReLU \(sizes)")
        #expect(portable.fused.contains(0) && portable.fused.contains { $0 > 0 })
        for isa in Conv2D.DirectISA.available.dropFirst() {
            let got = run(isa)
            #expect(close(got.out, portable.out), "forward \(isa) \(sizes)")
            #expect(close(got.fused, portable.fused), "forward with bias + ReLU \(isa) \(sizes)")
            #expect(close(got.dw, portable.dw), "dw \(isa) \(sizes)")
        }
    }

    @Test func otherShapesKeepIm2col() {
        // The C kernels take any width and channel count (row ends masked, blocks of 8/4/2/1 channels).
        #expect(Conv2D.usesDirect(.init(batch: 1, inChannels: 3, outChannels: 4, height: 8, width: 8, kernel: 3, padding: 1)))
        #expect(Conv2D.usesDirect(.init(batch: 1, inChannels: 4, outChannels: 4, height: 8, width: 12, kernel: 3, padding: 1)))
        #expect(Conv2D.usesDirect(.init(batch: 1, inChannels: 64, outChannels: 32, height: 16, width: 16, kernel: 3, padding: 1))
                == (Conv2D.DirectISA.best != .portable))
        #expect(!Conv2D.usesDirect(.init(batch: 1, inChannels: 128, outChannels: 128, height: 16, width: 16, kernel: 3, padding: 1)))
        #expect(!Conv2D.usesDirect(.init(batch: 1, inChannels: 4, outChannels: 4, height: 8, width: 8, kernel: 3, stride: 2, padding: 1)))
        #expect(!Conv2D.usesDirect(.init(batch: 1, inChannels: 4, outChannels: 4, height: 8, width: 8, kernel: 5, padding: 2)))
    }
}

/// `overwriteInputGradient` writes dx (any old contents gone) and equals adding into zeros, on the
/// direct path, the im2col path and a 1x1 convolution; dw and db still add.
@Suite struct Conv2DOverwriteTests {
    @Test(arguments: [(8, 8, 12, Conv2D.Path.automatic), (192, 64, 8, .automatic), (6, 5, 9, .im2col)])
    func overwrittenInputGradientEqualsAddingIntoZeros(cin: Int, cout: Int, side: Int, path: Conv2D.Path) {
        for kernel in [3, 1] {
            let s = Conv2D.Shape(batch: 3, inChannels: cin, outChannels: cout, height: side, width: side, kernel: kernel,
                                 padding: kernel / 2)
            var rng = SplitMix64(seed: 61)
            let x = GradientCheck.random(s.inputCount, &rng), w = GradientCheck.random(s.weightCount, &rng)
            let dout = GradientCheck.random(s.outputCount, &rng)
            let work = FloatBuffer(count: max(s.workspaceCount, s.columnCount, s.paddedCount) * 2)
            func run(overwrite: Bool) -> [[Float]] {
                let dx = FloatBuffer(count: s.inputCount), dw = FloatBuffer(count: s.weightCount), db = FloatBuffer(count: cout)
                dx.pointer.update(repeating: overwrite ? .nan : 0, count: dx.count)
                dw.pointer.update(repeating: 0.5, count: dw.count); db.pointer.update(repeating: 0.5, count: cout)
                Conv2D.backward(inputGradient: dx.pointer, weightGradient: dw.pointer, biasGradient: db.pointer, outputGradient: dout.pointer,
                                input: x.pointer, weight: w.pointer, shape: s, workspace: work.pointer, workspaces: 2, path: path,
                                overwriteInputGradient: overwrite)
                return [dx.array, dw.array, db.array]
            }
            let (written, added) = Parallel.withThreads(2) { (run(overwrite: true), run(overwrite: false)) }  // two parts
            #expect(written[0].allSatisfy { $0.isFinite }, "dx \(s)")
            for (got, want) in zip(written, added) {
                #expect(zip(got, want).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) }, "\(s) \(path)")
            }
        }
    }
}

/// The C im2col / col2im of the 3x3, stride 1, padding 1 convolution on images down to one pixel
/// wide or high: forward against the naive convolution, dx against the direct kernels.
@Suite struct Conv2DTinyImageTests {
    @Test(arguments: [(1, 1), (1, 5), (2, 3), (5, 1), (3, 2)])
    func im2colHandlesTinyImages(height: Int, width: Int) {
        let s = Conv2D.Shape(batch: 2, inChannels: 3, outChannels: 2, height: height, width: width, kernel: 3, padding: 1)
        var rng = SplitMix64(seed: 71)
        let x = GradientCheck.random(s.inputCount, &rng), w = GradientCheck.random(s.weightCount, &rng)
        let b = GradientCheck.random(2, &rng), dout = GradientCheck.random(s.outputCount, &rng)
        let work = FloatBuffer(count: max(s.columnCount, s.paddedCount))
        var dxs: [[Float]] = []
        for path in [Conv2D.Path.im2col, .direct] {
            let out = FloatBuffer(count: s.outputCount), dx = FloatBuffer(count: s.inputCount), dw = FloatBuffer(count: s.weightCount)
            Conv2D.forward(output: out.pointer, input: x.pointer, weight: w.pointer, bias: b.pointer, shape: s, workspace: work.pointer, path: path)
            #expect(zip(out.array, Conv2DTests.naive(x.array, w.array, b.array, s)).allSatisfy { abs($0 - $1) < 1e-5 }, "\(path) \(s)")
            Conv2D.backward(inputGradient: dx.pointer, weightGradient: dw.pointer, biasGradient: nil, outputGradient: dout.pointer,
                            input: x.pointer, weight: w.pointer, shape: s, workspace: work.pointer, path: path)
            dxs.append(dx.array + dw.array)
        }
        #expect(zip(dxs[0], dxs[1]).allSatisfy { abs($0 - $1) < 1e-5 }, "dx, dw \(s)")
    }
}
