import Foundation
import Testing
@testable import FluoroTensor

/// The vectorised exp, erf and log1p against Foundation's, over their working ranges.
@Suite struct VectorMathTests {
    func worstError(_ range: ClosedRange<Float>, steps: Int = 4000, relative: Bool,
                    _ vector: (VectorMath.F8) -> VectorMath.F8, _ reference: (Double) -> Double) -> Double {
        var worst: Double = 0
        for i in 0..<steps {
            let x = range.lowerBound + (range.upperBound - range.lowerBound) * Float(i) / Float(steps - 1)
            let got = Double(vector(VectorMath.F8(repeating: x))[3]), want = reference(Double(x))
            worst = max(worst, abs(got - want) / (relative ? abs(want) : 1))
        }
        return worst
    }

    @Test func expIsAccurate() {
        #expect(worstError(-80...80, relative: true, VectorMath.exp, Foundation.exp) < 1e-6)
        #expect(VectorMath.exp(VectorMath.F8(repeating: -200))[0] < 1e-37, "underflows gracefully, no NaN")
    }

    @Test func erfIsAccurate() {
        #expect(worstError(-6...6, relative: false, VectorMath.erf, Foundation.erf) < 5e-7)
    }

    @Test func log1pIsAccurate() {
        #expect(worstError(0...1, relative: false, VectorMath.log1pUnit, Foundation.log1p) < 2e-7)
    }

    @Test func softmaxRowsSumToOne() {
        // 13 columns: one full 8-lane block and a 5-lane tail.
        var x = (0..<26).map { Float($0 % 7) - 3 }
        x.withUnsafeMutableBufferPointer { AttentionCore.softmaxRows($0.baseAddress!, rows: 2, columns: 13) }
        let first = x[0..<13].map { Double($0) }
        let want = (0..<13).map { Foundation.exp(Double($0 % 7) - 3) }
        let total = want.reduce(0, +)
        #expect(zip(first, want).allSatisfy { abs($0 - $1 / total) < 1e-6 })
        #expect(abs(x[13..<26].reduce(0, +) - 1) < 1e-5)
    }
}
