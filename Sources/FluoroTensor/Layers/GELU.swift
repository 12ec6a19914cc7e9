import Foundation

/// The exact GELU, x · Φ(x) = 0.5 x (1 + erf(x / √2)), as PyTorch's default `F.gelu`
/// (erf to 1.5e-7, not the tanh approximation).
public enum GELU {
    /// - out, input: [n].
    public static func forward(out: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, count n: Int) {
        Parallel.chunks(n, minimumChunk: 1 << 14) { range in
            VectorMath.map(input + range.lowerBound, out + range.lowerBound, range.count) { x in
                0.5 * x * (1 + VectorMath.erf(x * 0.70710678118654752))
            }
        }
    }

    /// dInput[i] += dOut[i] · (Φ(x) + x φ(x)) (or = with `overwrite`); all [n].
    public static func backward(dInput: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>,
                                input: UnsafePointer<Float>, count n: Int, overwrite: Bool = false) {
        let keep: Float = overwrite ? 0 : 1
        Parallel.chunks(n, minimumChunk: 1 << 14) { range in
            var i = range.lowerBound
            if overwrite {
                while i + 8 <= range.upperBound {
                    VectorMath.store(VectorMath.load(dOut + i) * derivative(VectorMath.load(input + i)), dInput + i)
                    i += 8
                }
            } else {
                while i + 8 <= range.upperBound {
                    VectorMath.store(VectorMath.load(dInput + i) + VectorMath.load(dOut + i) * derivative(VectorMath.load(input + i)),
                                     dInput + i)
                    i += 8
                }
            }
            let tail = range.upperBound - i
            if tail > 0 {
                let d = derivative(VectorMath.loadPartial(input + i, tail))
                for k in 0..<tail { dInput[i + k] = keep * dInput[i + k] + dOut[i + k] * d[k] }
            }
        }
    }

    /// GELU'(x) = Φ(x) + x φ(x); erf's e^{-a²} (a = x/√2) is also φ's e^{-x²/2}, so one exp serves both.
    @inline(__always) static func derivative(_ x: VectorMath.F8) -> VectorMath.F8 {
        typealias F8 = VectorMath.F8
        let ax = x.replacing(with: -x, where: x .< 0)
        let a = ax * 0.70710678118654752
        let e = VectorMath.exp(-(a * a))
        let t = 1 / (1 + 0.3275911 * a)
        var p = F8(repeating: 1.061405429)
        p = p * t - 1.453152027
        p = p * t + 1.421413741
        p = p * t - 0.284496736
        p = p * t + 0.254829592
        let erfAbs = 1 - p * t * e
        let erf = erfAbs.replacing(with: -erfAbs, where: x .< 0)
        return 0.5 * (1 + erf) + x * (e * 0.39894228040143268)
    }
}
