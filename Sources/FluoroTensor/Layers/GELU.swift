import CFluoroKernels
import Foundation

/// The exact GELU, x · Φ(x) = 0.5 x (1 + erf(x / √2)), as PyTorch's default `F.gelu`
/// (erf to 1.5e-7, not the tanh approximation). The forwards run CFluoroKernels' vectorised C
/// (AVX-512 / AVX2 + FMA where the CPU has them); the Swift form below is its definition.
public enum GELU {
    /// - out, input: [n].
    public static func forward(out: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, count n: Int) {
        Parallel.chunks(n, minimumChunk: 1 << 14) { range in
            fk_gelu_value(out + range.lowerBound, input + range.lowerBound, range.count)
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

    /// The fused training form: out = GELU(x) and derivative = GELU'(x) from one exp and one erf.
    /// `derivative` may alias `input` (the pre-activation is not needed once its derivative is kept).
    /// - out, derivative, input: [n].
    public static func forward(out: UnsafeMutablePointer<Float>, derivative: UnsafeMutablePointer<Float>,
                               input: UnsafePointer<Float>, count n: Int) {
        Parallel.chunks(n, minimumChunk: 1 << 14) { range in
            fk_gelu_forward(out + range.lowerBound, derivative + range.lowerBound, input + range.lowerBound, range.count)
        }
    }

    /// dInput[i] = dOut[i] · derivative[i] (the backward of the fused forward); all [n].
    public static func backward(dInput: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>,
                                derivative: UnsafePointer<Float>, count n: Int) {
        Parallel.chunks(n, minimumChunk: 1 << 14) { range in
            var i = range.lowerBound
            while i + 8 <= range.upperBound {
                VectorMath.store(VectorMath.load(dOut + i) * VectorMath.load(derivative + i), dInput + i)
                i += 8
            }
            while i < range.upperBound { dInput[i] = dOut[i] * derivative[i]; i += 1 }
        }
    }

    /// GELU'(x) = Φ(x) + x φ(x).
    @inline(__always) static func derivative(_ x: VectorMath.F8) -> VectorMath.F8 { valueAndDerivative(x).1 }

    /// (x Φ(x), Φ(x) + x φ(x)); erf's e^{-a²} (a = x/√2) is also φ's e^{-x²/2}, so one exp serves both.
    @inline(__always) static func valueAndDerivative(_ x: VectorMath.F8) -> (VectorMath.F8, VectorMath.F8) {
        let ax = x.replacing(with: -x, where: x .< 0)
        let (erfAbs, e) = VectorMath.erfOfNonNegative(ax * 0.70710678118654752)
        let erf = erfAbs.replacing(with: -erfAbs, where: x .< 0)
        let cdf = 0.5 * (1 + erf)
        return (x * cdf, cdf + x * (e * 0.39894228040143268))
    }
}
