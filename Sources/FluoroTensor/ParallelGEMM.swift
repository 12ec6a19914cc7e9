/// Matrix products split across `Parallel.threads`: each thread runs a single-threaded sgemm on
/// its share of C's rows (or columns, when C is wide and short). With `Parallel.configure`,
/// OpenBLAS itself runs one thread and oneDNN runs on the calling thread, so every parallel
/// region in a step is Fluoro's own.
public enum ParallelGEMM {
    /// C[M,N] = alpha · op(A) op(B) (+ bias [N] on every row) + beta · C, row-major, like `BLAS.sgemm` (default strides).
    public static func sgemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                             alpha: Float = 1, a: UnsafePointer<Float>, lda: Int? = nil,
                             b: UnsafePointer<Float>, ldb: Int? = nil,
                             beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int? = nil,
                             bias: UnsafePointer<Float>? = nil, threads: Int = Parallel.threads) {
        precondition(bias == nil || alpha == 1, "ParallelGEMM.sgemm: a bias needs alpha 1")
        let lda = lda ?? (transA ? m : k)
        let ldb = ldb ?? (transB ? k : n)
        let ldc = ldc ?? n
        let parts = min(threads, max(1, (m * n * k) / (1 << 16)), max(m, n))
        if parts <= 1 {
            BLAS.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                       b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, bias: bias)
            return
        }
        if MatrixPrecision.current == .bf16 {  // round the inputs once (the bias added first), then split the product
            let beta = bias.map { BLAS.addBias($0, to: c, ldc: ldc, rows: m, columns: n, beta: beta) } ?? beta
            DNNLMatmul.bf16(parts: parts, transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                            b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            return
        }
        if m >= n {
            Parallel.forEach(parts) { part in
                let m0 = m * part / parts, m1 = m * (part + 1) / parts
                BLAS.sgemm(transA: transA, transB: transB, m: m1 - m0, n: n, k: k, alpha: alpha,
                           a: a + (transA ? m0 : m0 * lda), lda: lda, b: b, ldb: ldb,
                           beta: beta, c: c + m0 * ldc, ldc: ldc, bias: bias)
            }
        } else {
            Parallel.forEach(parts) { part in
                let n0 = n * part / parts, n1 = n * (part + 1) / parts
                BLAS.sgemm(transA: transA, transB: transB, m: m, n: n1 - n0, k: k, alpha: alpha,
                           a: a, lda: lda, b: b + (transB ? n0 * ldb : n0), ldb: ldb,
                           beta: beta, c: c + n0, ldc: ldc, bias: bias.map { $0 + n0 })
            }
        }
    }
}
