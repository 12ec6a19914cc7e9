import FluoroSupport
import Testing
@testable import FluoroTensor

/// Parallel loops set flush-to-zero / denormals-are-zero on every thread they compute on
/// (`Parallel.prepareThread`): a product below the smallest normal float comes out 0, not
/// subnormal, whether the loop runs inline or on workers.
@Suite struct DenormalTests {
    /// halves[i] = smallest normal float x factors[i], computed inside a Parallel loop.
    static func products(threads: Int, factors: [Float]) -> [Float] {
        let smallest = Float.leastNormalMagnitude
        var out = [Float](repeating: 1, count: factors.count)
        Parallel.withThreads(threads) {
            out.withUnsafeMutableBufferPointer { o in
                Parallel.forEach(factors.count) { i in o[i] = smallest * factors[i] }
            }
        }
        return out
    }

    @Test(arguments: [1, 2])
    func subnormalResultsFlushToZero(threads: Int) {
        var rng = SplitMix64(seed: 3)
        let factors = (0..<16).map { _ in Float(0.1 + 0.8 * rng.nextUnit()) }  // (0.1, 0.9): subnormal products
        #expect(Self.products(threads: threads, factors: factors).allSatisfy { $0 == 0 }, "\(threads) thread(s)")
        #expect(Self.products(threads: threads, factors: [Float](repeating: 2, count: 4)).allSatisfy { $0 == 2 * Float.leastNormalMagnitude },
                "normal results stay")
    }
}
