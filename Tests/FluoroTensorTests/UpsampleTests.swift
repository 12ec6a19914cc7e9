import FluoroSupport
import Testing
@testable import FluoroTensor

@Suite struct UpsampleTests {
    enum Mode: CaseIterable { case bilinear, nearest }

    static func forward(_ x: [Float], _ s: Upsample.Shape, _ mode: Mode) -> [Float] {
        var out = [Float](repeating: .nan, count: s.outputCount)
        out.withUnsafeMutableBufferPointer { o in
            switch mode {
            case .bilinear: Upsample.bilinearForward(output: o.baseAddress!, input: x, shape: s)
            case .nearest: Upsample.nearestForward(output: o.baseAddress!, input: x, shape: s)
            }
        }
        return out
    }

    /// torch.nn.functional.interpolate(torch.tensor([[[[1.,2],[3,4]]]]), scale_factor=2,
    /// mode="bilinear", align_corners=False)
    @Test func bilinearMatchesPyTorchOnTwoByTwo() {
        let s = Upsample.Shape(batch: 1, channels: 1, height: 2, width: 2)
        let out = Self.forward([1, 2, 3, 4], s, .bilinear)
        #expect(out == [1.0, 1.25, 1.75, 2.0,
                        1.5, 1.75, 2.25, 2.5,
                        2.5, 2.75, 3.25, 3.5,
                        3.0, 3.25, 3.75, 4.0])
    }

    @Test func nearestRepeatsEachPixel() {
        let s = Upsample.Shape(batch: 1, channels: 2, height: 1, width: 2)
        #expect(Self.forward([1, 2, 3, 4], s, .nearest) == [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4])
    }

    /// A constant image stays constant (the weights of every output sum to 1, borders included).
    @Test func bilinearPreservesConstants() {
        let s = Upsample.Shape(batch: 2, channels: 1, height: 3, width: 5, factor: 3)
        #expect(Self.forward([Float](repeating: 0.75, count: s.inputCount), s, .bilinear).allSatisfy { abs($0 - 0.75) < 1e-6 })
    }

    @Test(arguments: Mode.allCases, [2, 3])
    func gradientsMatchFiniteDifferences(mode: Mode, factor: Int) {
        let s = Upsample.Shape(batch: 2, channels: 2, height: 3, width: 4, factor: factor)
        var rng = SplitMix64(seed: 3)
        let x = SpatialGradientCheck.random(s.inputCount, &rng)
        let r = SpatialGradientCheck.random(s.outputCount, &rng)
        var dx = [Float](repeating: 1, count: s.inputCount)
        dx.withUnsafeMutableBufferPointer { d in
            switch mode {
            case .bilinear: Upsample.bilinearBackward(inputGradient: d.baseAddress!, outputGradient: r, shape: s)
            case .nearest: Upsample.nearestBackward(inputGradient: d.baseAddress!, outputGradient: r, shape: s)
            }
        }
        let e = SpatialGradientCheck.worstError(values: x, analytic: dx.map { $0 - 1 }) {
            SpatialGradientCheck.dot(Self.forward($0, s, mode), r)
        }
        #expect(e.error < 2e-3, "\(mode) x\(factor): dx[\(e.index)] off by \(e.error)")
    }

    /// The factor-2 C kernel against the tap tables it replaces, including one-pixel sides.
    @Test(arguments: [(1, 1), (1, 5), (4, 1), (3, 7), (8, 33)])
    func factorTwoKernelMatchesTheTapTables(height: Int, width: Int) {
        let s = Upsample.Shape(batch: 2, channels: 3, height: height, width: width)
        var rng = SplitMix64(seed: 5)
        let x = SpatialGradientCheck.random(s.inputCount, &rng), g = SpatialGradientCheck.random(s.outputCount, &rng)
        var fast = [Float](repeating: 0, count: s.outputCount), slow = fast
        Upsample.bilinearForward(output: &fast, input: x, shape: s)
        Upsample.bilinearForwardByTaps(output: &slow, input: x, shape: s)
        #expect(zip(fast, slow).allSatisfy { abs($0 - $1) < 1e-6 }, "forward \(height)x\(width)")
        var dFast = [Float](repeating: 0.5, count: s.inputCount), dSlow = dFast
        Upsample.bilinearBackward(inputGradient: &dFast, outputGradient: g, shape: s)
        Upsample.bilinearBackwardByTaps(inputGradient: &dSlow, outputGradient: g, shape: s)
        #expect(zip(dFast, dSlow).allSatisfy { abs($0 - $1) < 1e-5 }, "backward \(height)x\(width) (adds into dx)")
    }
}
