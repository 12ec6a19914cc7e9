import FluoroSupport
import Testing
@testable import FluoroTensor

/// The U-Net's skip concatenation: layout as torch.cat(dim=1), and finite-difference gradients.
@Suite struct ChannelConcatTests {
    static let shape = ChannelConcat.Shape(batch: 2, firstChannels: 2, secondChannels: 3, height: 3, width: 2)

    static func forward(_ a: [Float], _ b: [Float]) -> [Float] {
        var out = [Float](repeating: .nan, count: shape.outputCount)
        out.withUnsafeMutableBufferPointer { ChannelConcat.forward(output: $0.baseAddress!, first: a, second: b, shape: shape) }
        return out
    }

    @Test func layoutIsTorchCatAlongChannels() {
        let s = Self.shape
        let a = (0..<(2 * 2 * 6)).map { Float($0) }, b = (0..<(2 * 3 * 6)).map { Float(100 + $0) }
        let out = Self.forward(a, b)
        #expect(Array(out[0..<12]) == Array(a[0..<12]))     // image 0: a's channels
        #expect(Array(out[12..<30]) == Array(b[0..<18]))    // then b's
        #expect(Array(out[30..<42]) == Array(a[12..<24]))   // image 1
        #expect(out.count == s.outputCount)
    }

    @Test func gradientsMatchFiniteDifferences() {
        var rng = SplitMix64(seed: 3)
        let a = SpatialGradientCheck.random(24, &rng), b = SpatialGradientCheck.random(36, &rng)
        let r = SpatialGradientCheck.random(Self.shape.outputCount, &rng)
        var da = [Float](repeating: 1, count: 24), db = [Float](repeating: 1, count: 36)
        da.withUnsafeMutableBufferPointer { pa in db.withUnsafeMutableBufferPointer { pb in
            ChannelConcat.backward(firstGradient: pa.baseAddress!, secondGradient: pb.baseAddress!, outputGradient: r, shape: Self.shape)
        } }
        let ea = SpatialGradientCheck.worstError(values: a, analytic: da.map { $0 - 1 }) { SpatialGradientCheck.dot(Self.forward($0, b), r) }
        let eb = SpatialGradientCheck.worstError(values: b, analytic: db.map { $0 - 1 }) { SpatialGradientCheck.dot(Self.forward(a, $0), r) }
        #expect(ea.error < 2e-3 && eb.error < 2e-3, "da off by \(ea.error), db off by \(eb.error)")
    }
}
