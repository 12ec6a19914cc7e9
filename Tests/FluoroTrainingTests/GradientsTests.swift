import Foundation
import Testing
@testable import FluoroTraining

@Suite struct GradientsTests {
    static func values(_ n: Int) -> [Float] { (0..<n).map { Float(sin(Double($0) * 1.3)) * 2 } }

    @Test(arguments: [1, 2])
    func normMatchesDoubleSum(threads: Int) {
        for n in [0, 5, 16, 1000, 100_001] {
            let g = Self.values(n)
            let expected = g.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            let norm = g.withUnsafeBufferPointer { Gradients.globalNorm($0, threads: threads) }
            #expect(abs(Double(norm) - expected) <= 1e-5 * max(1, expected), "n \(n)")
        }
    }

    @Test func clippingScalesToTheLimitAndReturnsTheNorm() {
        var g = Self.values(1003)
        let before = g.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        let norm = g.withUnsafeMutableBufferPointer { Gradients.clipByGlobalNorm($0, maxNorm: 1, threads: 2) }
        #expect(abs(Double(norm) - before) <= 1e-4)
        let after = g.withUnsafeBufferPointer { Gradients.globalNorm($0) }
        #expect(abs(after - 1) <= 1e-4)
        // Under the limit nothing changes.
        var small: [Float] = [0.1, 0.2]
        _ = small.withUnsafeMutableBufferPointer { Gradients.clipByGlobalNorm($0, maxNorm: 1) }
        #expect(small == [0.1, 0.2])
    }

    @Test func scaleAddAndZero() {
        var g = Self.values(70)
        let original = g
        g.withUnsafeMutableBufferPointer { Gradients.scale($0, by: 0.25, threads: 2) }
        #expect(g == original.map { $0 * 0.25 })
        var acc = [Float](repeating: 1, count: 70)
        g.withUnsafeBufferPointer { src in acc.withUnsafeMutableBufferPointer { Gradients.add(src, into: $0) } }
        #expect(acc == g.map { $0 + 1 })
        acc.withUnsafeMutableBufferPointer { Gradients.zero($0) }
        #expect(acc.allSatisfy { $0 == 0 })
    }

    @Test(arguments: [1, 2])
    func findsNaNAndInfAnywhere(threads: Int) {
        let n = 70_001
        var g = Self.values(n)
        #expect(g.withUnsafeBufferPointer { Gradients.allFinite($0, threads: threads) })
        #expect(g.withUnsafeBufferPointer { Gradients.firstNonFinite($0) } == nil)
        for (index, bad) in [(0, Float.nan), (17, .infinity), (40_000, -.infinity), (n - 1, .nan)] {
            var h = g
            h[index] = bad
            #expect(!h.withUnsafeBufferPointer { Gradients.allFinite($0, threads: threads) }, "\(bad) at \(index)")
            #expect(h.withUnsafeBufferPointer { Gradients.firstNonFinite($0) } == index)
        }
        g[3] = .greatestFiniteMagnitude  // large but finite
        #expect(g.withUnsafeBufferPointer { Gradients.allFinite($0, threads: threads) })
    }
}
