/// Token bookkeeping: patchify a clip, gather the visible tokens, scatter them back among mask tokens.
public enum Tokens {
    /// clip [B, T, S, S] → patches [B, N, tt*p*p]; token n = (t'*(S/p) + h')*(S/p) + w', pixel order (dt, dy, dx).
    public static func patchify(out: UnsafeMutablePointer<Float>, clip: UnsafePointer<Float>,
                                batch B: Int, frames T: Int, size S: Int, tubelet tt: Int, patch p: Int) {
        let g = S / p, slots = T / tt, V = tt * p * p
        Parallel.forEach(B) { b in
            for t in 0..<slots {
                for hy in 0..<g {
                    for wx in 0..<g {
                        let n = (t * g + hy) * g + wx
                        var o = out + (b * slots * g * g + n) * V
                        for dt in 0..<tt {
                            for dy in 0..<p {
                                let src = clip + ((b * T + t * tt + dt) * S + hy * p + dy) * S + wx * p
                                for i in 0..<p { o[i] = src[i] }  // a loop: a library call per 16 floats cost more
                                o += p
                            }
                        }
                    }
                }
            }
        }
    }

    /// out[b, i, :] = x[b, index[b, i], :].
    /// - x: [B, N, C]; index: [B, K] (row indices into each clip's N tokens); out: [B, K, C].
    public static func gather(out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, index: UnsafePointer<Int32>,
                              batch B: Int, tokens N: Int, selected K: Int, channels C: Int) {
        for b in 0..<B {
            for i in 0..<K {
                (out + (b * K + i) * C).update(from: x + (b * N + Int(index[b * K + i])) * C, count: C)
            }
        }
    }

    /// Backward of `gather`: dX[b, index[b, i], :] += dOut[b, i, :].
    public static func gatherBackward(dX: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>, index: UnsafePointer<Int32>,
                                      batch B: Int, tokens N: Int, selected K: Int, channels C: Int) {
        for b in 0..<B {
            for i in 0..<K {
                let dst = dX + (b * N + Int(index[b * K + i])) * C, src = dOut + (b * K + i) * C
                for j in 0..<C { dst[j] += src[j] }
            }
        }
    }

    /// full[b, n, :] = fill (every n), then full[b, index[b, i], :] = x[b, i, :].
    /// - x: [B, K, C]; index: [B, K]; fill: [C]; full: [B, N, C].
    public static func scatter(full: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, index: UnsafePointer<Int32>,
                               fill: UnsafePointer<Float>, batch B: Int, tokens N: Int, selected K: Int, channels C: Int) {
        for r in 0..<(B * N) { (full + r * C).update(from: fill, count: C) }
        for b in 0..<B {
            for i in 0..<K {
                (full + (b * N + Int(index[b * K + i])) * C).update(from: x + (b * K + i) * C, count: C)
            }
        }
    }

    /// Backward of `scatter`: dX[b, i] += dFull[b, index[b, i]]; dFill += Σ dFull over the other rows
    /// (`complement`: [B, N-K], the rows not in `index`).
    public static func scatterBackward(dX: UnsafeMutablePointer<Float>, dFill: UnsafeMutablePointer<Float>,
                                       dFull: UnsafePointer<Float>, index: UnsafePointer<Int32>, complement: UnsafePointer<Int32>,
                                       batch B: Int, tokens N: Int, selected K: Int, channels C: Int) {
        for b in 0..<B {
            for i in 0..<K {
                let src = dFull + (b * N + Int(index[b * K + i])) * C, dst = dX + (b * K + i) * C
                for j in 0..<C { dst[j] += src[j] }
            }
            for i in 0..<(N - K) {
                let src = dFull + (b * N + Int(complement[b * (N - K) + i])) * C
                for j in 0..<C { dFill[j] += src[j] }
            }
        }
    }
}
