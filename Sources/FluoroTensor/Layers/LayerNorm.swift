/// LayerNorm over the last axis: out = (x - mean) / sqrt(var + eps) * weight + bias, biased variance.
public enum LayerNorm {
    /// - out, input: [M, C]; mean, rstd: [M] (cached for backward); weight, bias: [C].
    public static func forward(out: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>,
                               rstd: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
                               weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                               rows M: Int, channels C: Int, eps: Float = 1e-6) {
        Parallel.chunks(M, minimumChunk: 64) { range in
            for r in range {
                let x = input + r * C
                var s: Float = 0
                for j in 0..<C { s += x[j] }
                let m = s / Float(C)
                var v: Float = 0
                for j in 0..<C { let d = x[j] - m; v += d * d }
                let rs = 1 / (v / Float(C) + eps).squareRoot()
                let o = out + r * C
                for j in 0..<C { o[j] = (x[j] - m) * rs * weight[j] + bias[j] }
                mean[r] = m
                rstd[r] = rs
            }
        }
    }

    /// Adds the gradients into dInput [M, C], dWeight [C] and dBias [C]; dOut: [M, C].
    public static func backward(dInput: UnsafeMutablePointer<Float>, dWeight: UnsafeMutablePointer<Float>,
                                dBias: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>,
                                input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
                                rows M: Int, channels C: Int) {
        // dInput, row by row (parallel); the weight and bias sums need a reduction (serial).
        Parallel.chunks(M, minimumChunk: 64) { range in
            for r in range {
                let x = input + r * C, g = dOut + r * C, dx = dInput + r * C
                let m = mean[r], rs = rstd[r]
                var sumG: Float = 0, sumGX: Float = 0
                for j in 0..<C {
                    let gw = g[j] * weight[j]
                    sumG += gw
                    sumGX += gw * (x[j] - m) * rs
                }
                let meanG = sumG / Float(C), meanGX = sumGX / Float(C)
                for j in 0..<C {
                    let xh = (x[j] - m) * rs
                    dx[j] += (g[j] * weight[j] - meanG - xh * meanGX) * rs
                }
            }
        }
        for r in 0..<M {
            let x = input + r * C, g = dOut + r * C
            let m = mean[r], rs = rstd[r]
            for j in 0..<C {
                dBias[j] += g[j]
                dWeight[j] += g[j] * (x[j] - m) * rs
            }
        }
    }
}
