import COpenBLAS

/// Row-major single-precision matrix products: oneDNN's f32 matmul or OpenBLAS (`SgemmLibrary`),
/// or oneDNN on bf16-rounded inputs when `MatrixPrecision.current` is `.bf16`. `sgemm` is
/// Fluoro's one GEMM entry point.
public enum BLAS {
    /// C[M,N] = alpha * op(A) * op(B) + beta * C, all row-major.
    /// op(A) is [M,K] (A stored [K,M] when `transA`), op(B) is [K,N] (B stored [N,K] when `transB`).
    /// With `MatrixPrecision.current == .bf16`, A and B are rounded to bf16 first; C stays fp32.
    /// With `bias` [N] (alpha 1 only) every row of the product gets it added: on oneDNN inside the
    /// kernel, elsewhere added to C before the product.
    public static func sgemm(
        transA: Bool = false, transB: Bool = false,
        m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int? = nil,
        b: UnsafePointer<Float>, ldb: Int? = nil,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int? = nil,
        bias: UnsafePointer<Float>? = nil
    ) {
        guard m > 0, n > 0 else { return }
        precondition(bias == nil || alpha == 1, "BLAS.sgemm: a bias needs alpha 1")
        let lda = lda ?? (transA ? m : k)
        let ldb = ldb ?? (transB ? k : n)
        let ldc = ldc ?? n
        if MatrixPrecision.current == .fp32, SgemmLibrary.current == .onednn, k > 0,
           DNNLMatmul.f32(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                          b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, bias: bias) {
            return
        }
        var beta = beta  // bf16, OpenBLAS, or a product oneDNN declined
        if let bias { beta = addBias(bias, to: c, ldc: ldc, rows: m, columns: n, beta: beta) }
        if MatrixPrecision.current == .bf16 {
            DNNLMatmul.bf16(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                            b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            return
        }
        cblas_sgemm(CblasRowMajor,
                    transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// C = beta·C + bias on every row [columns] of C, so a product added after it (beta 1, the
    /// returned value) ends with the bias; for paths that cannot add a bias in the kernel.
    static func addBias(_ bias: UnsafePointer<Float>, to c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, columns n: Int,
                        beta: Float) -> Float {
        for r in 0..<rows {
            let row = c + r * ldc
            if beta == 0 { row.update(from: bias, count: n) } else { for j in 0..<n { row[j] = beta * row[j] + bias[j] } }
        }
        return 1
    }

    /// Array convenience for `sgemm`: returns op(A) * op(B) as a new [M,N] row-major array.
    public static func matmul(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int,
                              transA: Bool = false, transB: Bool = false) -> [Float] {
        precondition(a.count == m * k && b.count == k * n, "matmul: shapes do not match the buffers")
        var c = [Float](repeating: 0, count: m * n)
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    sgemm(transA: transA, transB: transB, m: m, n: n, k: k,
                          a: pa.baseAddress!, b: pb.baseAddress!, c: pc.baseAddress!)
                }
            }
        }
        return c
    }
}
