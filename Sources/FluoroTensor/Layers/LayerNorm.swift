/// LayerNorm over the last axis: out = (x - mean) / sqrt(var + eps) * weight + bias, biased variance.
public enum LayerNorm {
    typealias F8 = VectorMath.F8

    /// - out, input: [M, C]; mean, rstd: [M] (cached for backward); weight, bias: [C].
    public static func forward(out: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>,
                               rstd: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
                               weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                               rows M: Int, channels C: Int, eps: Float = 1e-6) {
        Parallel.chunks(M, minimumChunk: 64) { range in
            for r in range {
                let x = input + r * C, o = out + r * C
                let m = VectorMath.sum(x, C) / Float(C)
                var acc = F8(), j = 0
                let mv = F8(repeating: m)
                while j + 8 <= C { let d = VectorMath.load(x + j) - mv; acc += d * d; j += 8 }
                var v = acc.sum()
                while j < C { let d = x[j] - m; v += d * d; j += 1 }
                let rs = 1 / (v / Float(C) + eps).squareRoot()
                let rv = F8(repeating: rs)
                j = 0
                while j + 8 <= C {
                    VectorMath.store((VectorMath.load(x + j) - mv) * rv * VectorMath.load(weight + j) + VectorMath.load(bias + j), o + j)
                    j += 8
                }
                while j < C { o[j] = (x[j] - m) * rs * weight[j] + bias[j]; j += 1 }
                mean[r] = m
                rstd[r] = rs
            }
        }
    }

    /// Adds the gradients into dInput [M, C] (writes it with `overwriteInput`), dWeight [C] and dBias [C]; dOut: [M, C].
    public static func backward(dInput: UnsafeMutablePointer<Float>, dWeight: UnsafeMutablePointer<Float>,
                                dBias: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>,
                                input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
                                rows M: Int, channels C: Int, overwriteInput: Bool = false) {
        let keep: Float = overwriteInput ? 0 : 1
        // dInput row by row (parallel); then the weight and bias sums over rows, by column ranges.
        Parallel.chunks(M, minimumChunk: 64) { range in
            for r in range {
                let x = input + r * C, g = dOut + r * C, dx = dInput + r * C
                let m = mean[r], rs = rstd[r]
                let mv = F8(repeating: m), rv = F8(repeating: rs)
                var sg = F8(), sgx = F8(), j = 0
                while j + 8 <= C {
                    let gw = VectorMath.load(g + j) * VectorMath.load(weight + j)
                    sg += gw
                    sgx += gw * (VectorMath.load(x + j) - mv) * rv
                    j += 8
                }
                var sumG = sg.sum(), sumGX = sgx.sum()
                while j < C { let gw = g[j] * weight[j]; sumG += gw; sumGX += gw * (x[j] - m) * rs; j += 1 }
                let meanG = sumG / Float(C), meanGX = sumGX / Float(C)
                let mg = F8(repeating: meanG), mgx = F8(repeating: meanGX), kv = F8(repeating: keep)
                j = 0
                while j + 8 <= C {
                    let xh = (VectorMath.load(x + j) - mv) * rv
                    let d = (VectorMath.load(g + j) * VectorMath.load(weight + j) - mg - xh * mgx) * rv
                    VectorMath.store(kv * VectorMath.load(dx + j) + d, dx + j)
                    j += 8
                }
                while j < C {
                    let xh = (x[j] - m) * rs
                    dx[j] = keep * dx[j] + (g[j] * weight[j] - meanG - xh * meanGX) * rs
                    j += 1
                }
            }
        }
        // dWeight and dBias: sums over rows; threads take disjoint column ranges (as Linear.addColumnSums).
        let parts = Parallel.threads > 1 && M * C >= 1 << 15 ? min(Parallel.threads, max(1, C / 16)) : 1
        Parallel.forEach(parts) { part in
            let c0 = C * part / parts, c1 = C * (part + 1) / parts
            for r in 0..<M {
                let x = input + r * C, g = dOut + r * C
                let m = mean[r], rs = rstd[r]
                let mv = F8(repeating: m), rv = F8(repeating: rs)
                var j = c0
                while j + 8 <= c1 {
                    let gv = VectorMath.load(g + j)
                    VectorMath.store(VectorMath.load(dBias + j) + gv, dBias + j)
                    VectorMath.store(VectorMath.load(dWeight + j) + gv * (VectorMath.load(x + j) - mv) * rv, dWeight + j)
                    j += 8
                }
                while j < c1 {
                    dBias[j] += g[j]
                    dWeight[j] += g[j] * (x[j] - m) * rs
                    j += 1
                }
            }
        }
    }
}
