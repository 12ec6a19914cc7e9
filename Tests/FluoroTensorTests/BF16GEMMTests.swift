import FluoroSupport
import Testing
@testable import FluoroTensor

/// The bf16 path of the one GEMM entry point (`BLAS.sgemm` with `MatrixPrecision.bf16`): inputs
/// rounded to bf16 (nearest even), products accumulated and written in fp32 by oneDNN.
@Suite struct BF16GEMMTests {
    /// Skips (passes vacuously) where oneDNN cannot multiply bf16 at all.
    static var available: Bool { DNNLMatmul.probeBF16() == nil }

    @Test func roundingIsNearestEven() {
        #expect(BFloat16.round(1) == 1)
        // bf16 spacing at 1 is 2^-7.
        #expect(BFloat16.round(1 + 1.0 / 256) == 1)                 // halfway between 1 and 1+2^-7: ties to even (1)
        #expect(BFloat16.round(1 + 3.0 / 256) == 1 + 1.0 / 64)      // halfway, odd below: up to the even one
        #expect(BFloat16.round(1 + 3.0 / 512) == 1 + 1.0 / 128)     // nearer the upper neighbour
        #expect(BFloat16.round(-3.14159) == -3.140625)
        #expect(BFloat16.round(.nan).isNaN)
        #expect(BFloat16.round(.infinity) == .infinity)
        #expect(BFloat16.round(Float.greatestFiniteMagnitude) == .infinity)  // rounds up past bf16's largest
        // The vector converter agrees with the scalar one on every lane.
        var rng = SplitMix64(seed: 3)
        let x = (0..<1000).map { i in i % 97 == 0 ? Float.nan : Float(rng.nextUnit() * 200 - 100) }
        var h = [UInt16](repeating: 0, count: x.count)
        x.withUnsafeBufferPointer { px in h.withUnsafeMutableBufferPointer { ph in BFloat16.convert(px.baseAddress!, ph.baseAddress!, count: x.count) } }
        for i in x.indices where !x[i].isNaN { #expect(h[i] == BFloat16.bits(x[i]), "lane \(i)") }
        for i in x.indices where x[i].isNaN { #expect(Float(bitPattern: UInt32(h[i]) << 16).isNaN) }
    }

    /// bf16 products are exactly fp32 products of the rounded inputs (up to fp32 summation order):
    /// every transpose combination, row strides wider than the matrices, alpha, and beta 0 and 1.
    @Test(arguments: [(false, false), (false, true), (true, false), (true, true)])
    func productIsTheFP32ProductOfRoundedInputs(transA: Bool, transB: Bool) {
        guard Self.available else { return }
        let (m, n, k) = (37, 53, 71)
        let (lda, ldb, ldc) = ((transA ? m : k) + 3, (transB ? k : n) + 5, n + 2)
        var rng = SplitMix64(seed: 11)
        let a = (0..<((transA ? k : m) * lda)).map { _ in Float(rng.nextUnit() * 2 - 1) }
        let b = (0..<((transB ? n : k) * ldb)).map { _ in Float(rng.nextUnit() * 2 - 1) }
        let c0 = (0..<(m * ldc)).map { _ in Float(rng.nextUnit() * 2 - 1) }
        for (alpha, beta) in [(Float(1), Float(0)), (0.25, 1), (0.7, 1)] {
            var got = c0, want = c0
            let ar = a.map(BFloat16.round), br = b.map(BFloat16.round)
            MatrixPrecision.with(.bf16) {
                BLAS.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                           b: b, ldb: ldb, beta: beta, c: &got, ldc: ldc)
            }
            MatrixPrecision.with(.fp32) {
                BLAS.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: ar, lda: lda,
                           b: br, ldb: ldb, beta: beta, c: &want, ldc: ldc)
            }
            let worst = zip(got, want).map { abs($0 - $1) }.max()!
            #expect(worst < 2e-5, "transA=\(transA) transB=\(transB) alpha=\(alpha) beta=\(beta): off by \(worst)")
            // Padding columns of C are never written.
            for r in 0..<m { for j in n..<ldc { #expect(got[r * ldc + j] == c0[r * ldc + j]) } }
        }
    }

    /// Against exact fp32, each bf16 product's error stays within bf16's rounding bound:
    /// |error| <= 2u · Σ|a||b| with u = 2^-9 (both inputs rounded once).
    @Test func errorAgainstFP32IsWithinTheRoundingBound() {
        guard Self.available else { return }
        let (m, n, k) = (64, 96, 384)
        var rng = SplitMix64(seed: 5)
        let a = (0..<(m * k)).map { _ in Float(rng.nextUnit() * 2 - 1) }
        let b = (0..<(n * k)).map { _ in Float(rng.nextUnit() * 2 - 1) }
        let exact = MatrixPrecision.with(.fp32) { BLAS.matmul(a, b, m: m, n: n, k: k, transB: true) }
        let got = MatrixPrecision.with(.bf16) { BLAS.matmul(a, b, m: m, n: n, k: k, transB: true) }
        let absA = a.map(abs), absB = b.map(abs)
        let bound = MatrixPrecision.with(.fp32) { BLAS.matmul(absA, absB, m: m, n: n, k: k, transB: true) }
        let u: Float = 1.0 / 512
        for i in got.indices { #expect(abs(got[i] - exact[i]) <= 2.01 * u * bound[i] + 1e-5) }
        let worstRelative = got.indices.map { abs(got[$0] - exact[$0]) / bound[$0] }.max()!
        #expect(worstRelative > 0, "bf16 changed nothing: the bf16 path did not run")
    }

    /// Threads split a bf16 product (each part is its own oneDNN primitive) without changing it much.
    @Test func parallelProductMatchesOneThread() {
        guard Self.available else { return }
        let (m, n, k) = (300, 200, 64)
        var rng = SplitMix64(seed: 9)
        let a = (0..<(m * k)).map { _ in Float(rng.nextUnit() * 2 - 1) }
        let b = (0..<(n * k)).map { _ in Float(rng.nextUnit() * 2 - 1) }
        var one = [Float](repeating: 0, count: m * n), two = one
        MatrixPrecision.with(.bf16) {
            ParallelGEMM.sgemm(transB: true, m: m, n: n, k: k, a: a, b: b, c: &one, threads: 1)
            Parallel.withThreads(2) { ParallelGEMM.sgemm(transB: true, m: m, n: n, k: k, a: a, b: b, c: &two, threads: 2) }
        }
        let worst = zip(one, two).map { abs($0 - $1) }.max()!
        #expect(worst < 1e-5, "2 threads differ by \(worst)")
    }

    /// The precision set with `with` reaches `Parallel`'s worker threads and ends with the block.
    @Test func precisionFollowsParallelLoops() {
        #expect(MatrixPrecision.current == MatrixPrecision.configured)
        MatrixPrecision.with(.bf16) {
            Parallel.withThreads(2) {
                var seen = [MatrixPrecision](repeating: .fp32, count: 8)
                seen.withUnsafeMutableBufferPointer { s in Parallel.forEach(8) { s[$0] = MatrixPrecision.current } }
                #expect(seen.allSatisfy { $0 == .bf16 })
            }
        }
        #expect(MatrixPrecision.current == MatrixPrecision.configured)
    }

    /// Without AVX512_BF16/AMX, bf16 is refused unless emulation is asked for; with them, oneDNN
    /// runs a native bf16 kernel (its implementation name says so).
    @Test func emulationNeedsConsent() throws {
        if MatrixPrecision.hardwareHasBF16 {
            let name = DNNLMatmul.implementationName(.bf16, m: 256, n: 256, k: 256)
            #expect(name.contains("bf16") || name.contains("amx"), "oneDNN runs \(name) for bf16")
        } else {
            #expect(throws: MatrixPrecision.Unavailable.self) { try MatrixPrecision.enable(.bf16) }
        }
    }
}
