import Foundation
import FluoroSupport
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

    /// The C kernels (CFluoroKernels, the variant this CPU runs) against Double-precision
    /// definitions, over rows long enough to use the 16-lane blocks and with every tail length.
    @Test func softmaxKernelMatchesItsDefinitionForEveryTail() {
        var rng = SplitMix64(seed: 11)
        for columns in [1, 7, 15, 16, 17, 33, 192] {
            var x = (0..<(3 * columns)).map { _ in Float(rng.nextUnit() * 40 - 20) }
            let input = x
            x.withUnsafeMutableBufferPointer { AttentionCore.softmaxRows($0.baseAddress!, rows: 3, columns: columns) }
            for r in 0..<3 {
                let row = input[(r * columns)..<((r + 1) * columns)].map(Double.init)
                let m = row.max()!, e = row.map { Foundation.exp($0 - m) }, total = e.reduce(0, +)
                for j in 0..<columns {
                    #expect(abs(Double(x[r * columns + j]) - e[j] / total) < 2e-6, "columns \(columns), row \(r), column \(j)")
                }
            }
        }
    }

    @Test func geluKernelMatchesItsDefinitionAndMayWorkInPlace() {
        let n = 1000 + 13  // blocks of 512 and a tail
        let x = (0..<n).map { Float($0 - n / 2) * 0.012 }  // about -6 ... 6
        var value = [Float](repeating: 0, count: n), slope = [Float](repeating: 0, count: n), alone = value
        x.withUnsafeBufferPointer { xs in
            GELU.forward(out: &value, derivative: &slope, input: xs.baseAddress!, count: n)
            GELU.forward(out: &alone, input: xs.baseAddress!, count: n)
        }
        var inPlace = x, inPlaceValue = value
        inPlace.withUnsafeMutableBufferPointer { GELU.forward(out: &inPlaceValue, derivative: $0.baseAddress!, input: $0.baseAddress!, count: n) }
        for i in 0..<n {
            let v = Double(x[i]), cdf = 0.5 * (1 + Foundation.erf(v / 2.0.squareRoot()))
            let pdf = Foundation.exp(-v * v / 2) / (2 * Double.pi).squareRoot()
            #expect(abs(Double(value[i]) - v * cdf) < 1e-6 * max(1, abs(v)), "GELU(\(v))")
            #expect(abs(Double(slope[i]) - (cdf + v * pdf)) < 1e-6 * max(1, abs(v)), "GELU'(\(v))")
            #expect(alone[i] == value[i] && inPlaceValue[i] == value[i] && inPlace[i] == slope[i])
        }
    }
}
