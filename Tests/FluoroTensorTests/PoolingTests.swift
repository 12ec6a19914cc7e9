import FluoroSupport
import Testing
@testable import FluoroTensor

@Suite struct PoolingTests {
    static func pool(_ x: [Float], _ s: MaxPool2D.Shape) -> (out: [Float], indices: [Int32]) {
        var out = [Float](repeating: .nan, count: s.outputCount)
        var idx = [Int32](repeating: -1, count: s.outputCount)
        out.withUnsafeMutableBufferPointer { o in idx.withUnsafeMutableBufferPointer { i in
            MaxPool2D.forward(output: o.baseAddress!, indices: i.baseAddress!, input: x, shape: s)
        } }
        return (out, idx)
    }

    @Test func maxPoolPicksWindowMaximaAndDropsOddEdges() {
        let s = MaxPool2D.Shape(batch: 1, channels: 1, height: 3, width: 5)
        let x: [Float] = [1, 5, 2, 0, 9,
                          3, 4, 8, 1, 9,
                          9, 9, 9, 9, 9]
        let (out, idx) = Self.pool(x, s)
        #expect(out == [5, 8])
        #expect(idx == [1, 7])
    }

    /// Inputs are distinct and spaced 0.05 apart, so no window's winner changes within eps.
    @Test func maxPoolGradientsMatchFiniteDifferences() {
        let s = MaxPool2D.Shape(batch: 2, channels: 2, height: 6, width: 5)
        var rng = SplitMix64(seed: 9)
        let x = (0..<s.inputCount).map { Float($0) * 0.05 - 3 }.shuffled(using: &rng)
        let r = SpatialGradientCheck.random(s.outputCount, &rng)
        let (_, idx) = Self.pool(x, s)
        var dx = [Float](repeating: 0, count: s.inputCount)
        dx.withUnsafeMutableBufferPointer { d in
            MaxPool2D.backward(inputGradient: d.baseAddress!, outputGradient: r, indices: idx, shape: s)
        }
        let e = SpatialGradientCheck.worstError(values: x, analytic: dx, eps: 1e-2) {
            SpatialGradientCheck.dot(Self.pool($0, s).out, r)
        }
        #expect(e.error < 2e-3, "dx[\(e.index)] off by \(e.error)")
    }

    /// Inputs kept at least 0.05 from zero, so the kink is never within eps.
    @Test func reluGradientsMatchFiniteDifferences() {
        var rng = SplitMix64(seed: 4)
        let n = 40
        let x = SpatialGradientCheck.random(n, &rng).map { $0 >= 0 ? $0 + 0.05 : $0 - 0.05 }
        let r = SpatialGradientCheck.random(n, &rng)
        func forward(_ v: [Float]) -> [Float] {
            var out = [Float](repeating: .nan, count: n)
            out.withUnsafeMutableBufferPointer { ReLU.forward(output: $0.baseAddress!, input: v, count: n) }
            return out
        }
        let out = forward(x)
        #expect(out == x.map { max(0, $0) })
        var dx = [Float](repeating: 2, count: n)
        dx.withUnsafeMutableBufferPointer { ReLU.backward(inputGradient: $0.baseAddress!, outputGradient: r, output: out, count: n) }
        let e = SpatialGradientCheck.worstError(values: x, analytic: dx.map { $0 - 2 }) { SpatialGradientCheck.dot(forward($0), r) }
        #expect(e.error < 2e-3, "dx[\(e.index)] off by \(e.error)")
    }
}
