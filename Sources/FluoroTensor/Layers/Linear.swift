/// A fully connected layer, `out = in · weightᵀ + bias`, with PyTorch's [out, in] weight layout.
/// Also the patch embedding once the clip is patchified (the Conv3d weight [D,1,tt,p,p] is [D, tt*p*p]).
public enum Linear {
    /// out = input · weightᵀ (+ bias).
    /// - out: [M, N]; input: [M, K]; weight: [N, K]; bias: [N] or nil.
    public static func forward(out: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
                               weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                               rows M: Int, inFeatures K: Int, outFeatures N: Int) {
        ParallelGEMM.sgemm(transB: true, m: M, n: N, k: K, a: input, b: weight, c: out, bias: bias)
    }

    /// Adds the gradients of `forward` into `dInput`, `dWeight` and `dBias` (each optional);
    /// with `overwriteInput`, dInput is written instead of added to (saves zeroing a scratch buffer).
    /// - dInput, input: [M, K]; dWeight, weight: [N, K]; dBias: [N]; dOut: [M, N].
    public static func backward(dInput: UnsafeMutablePointer<Float>?, dWeight: UnsafeMutablePointer<Float>?,
                                dBias: UnsafeMutablePointer<Float>?, dOut: UnsafePointer<Float>,
                                input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                rows M: Int, inFeatures K: Int, outFeatures N: Int, overwriteInput: Bool = false) {
        if let dInput {
            // dInput[M,K] += dOut[M,N] · weight[N,K]
            ParallelGEMM.sgemm(m: M, n: K, k: N, a: dOut, b: weight, beta: overwriteInput ? 0 : 1, c: dInput)
        }
        if let dWeight {
            // dWeight[N,K] += dOutᵀ[N,M] · input[M,K]
            ParallelGEMM.sgemm(transA: true, m: N, n: K, k: M, a: dOut, b: input, beta: 1, c: dWeight)
        }
        if let dBias { addColumnSums(into: dBias, dOut, rows: M, columns: N) }
    }

    /// sums[N] += Σ_r x[r, :] for x: [M, N] with rows `stride` floats apart (default N);
    /// threads take disjoint column ranges.
    public static func addColumnSums(into sums: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
                                     rows M: Int, columns N: Int, stride: Int? = nil) {
        let ld = stride ?? N
        let parts = Parallel.threads > 1 && M * N >= 1 << 15 ? min(Parallel.threads, max(1, N / 16)) : 1
        Parallel.forEach(parts) { part in
            let c0 = N * part / parts, c1 = N * (part + 1) / parts
            for r in 0..<M { VectorMath.axpy(1, x + r * ld + c0, sums + c0, c1 - c0) }
        }
    }
}

/// Elementwise helpers shared by the layers.
public enum Elementwise {
    /// y[i] += x[i] for i in 0..<n (a residual connection's forward and backward).
    public static func add(into y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count n: Int) {
        Parallel.chunks(n, minimumChunk: 1 << 15) { range in
            VectorMath.axpy(1, x + range.lowerBound, y + range.lowerBound, range.count)
        }
    }

    /// out[i] = a[i] + b[i] for i in 0..<n.
    public static func sum(out: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count n: Int) {
        Parallel.chunks(n, minimumChunk: 1 << 15) { range in
            for i in range { out[i] = a[i] + b[i] }
        }
    }
}
