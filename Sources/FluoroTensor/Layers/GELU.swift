import Foundation

/// The exact GELU, x · Φ(x) = 0.5 x (1 + erf(x / √2)), as PyTorch's default `F.gelu`.
public enum GELU {
    /// - out, input: [n] (out may alias input only if the caller keeps a copy for backward).
    public static func forward(out: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, count n: Int) {
        Parallel.chunks(n, minimumChunk: 1 << 14) { range in
            for i in range {
                let x = input[i]
                out[i] = 0.5 * x * (1 + erff(x * 0.70710678118654752))
            }
        }
    }

    /// dInput[i] += dOut[i] · (Φ(x) + x φ(x)); all [n].
    public static func backward(dInput: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>,
                                input: UnsafePointer<Float>, count n: Int) {
        Parallel.chunks(n, minimumChunk: 1 << 14) { range in
            for i in range {
                let x = input[i]
                let cdf = 0.5 * (1 + erff(x * 0.70710678118654752))
                let pdf = expf(-0.5 * x * x) * 0.39894228040143268
                dInput[i] += dOut[i] * (cdf + x * pdf)
            }
        }
    }
}
