import COpenBLAS
import FluoroSupport
import Testing
@testable import FluoroTensor

/// Naive row-major reference for op(A)[M,K] * op(B)[K,N].
private func naiveProduct(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int, transA: Bool, transB: Bool) -> [Float] {
    var c = [Float](repeating: 0, count: m * n)
    for i in 0..<m {
        for j in 0..<n {
            var sum: Double = 0
            for p in 0..<k {
                let av = transA ? a[p * m + i] : a[i * k + p]
                let bv = transB ? b[j * k + p] : b[p * n + j]
                sum += Double(av) * Double(bv)
            }
            c[i * n + j] = Float(sum)
        }
    }
    return c
}

@Suite struct BLASTests {
    @Test(arguments: [(false, false), (false, true), (true, false), (true, true)])
    func sgemmMatchesNaiveProduct(transA: Bool, transB: Bool) {
        // Odd sizes so no kernel path is hidden by a multiple of the block size.
        let (m, n, k) = (37, 53, 71)
        var rng = SplitMix64(seed: 7)
        let a = (0..<(m * k)).map { _ in Float(rng.nextUnit() * 2 - 1) }
        let b = (0..<(k * n)).map { _ in Float(rng.nextUnit() * 2 - 1) }
        let got = BLAS.matmul(a, b, m: m, n: n, k: k, transA: transA, transB: transB)
        let want = naiveProduct(a, b, m: m, n: n, k: k, transA: transA, transB: transB)
        let worst = zip(got, want).map { abs($0 - $1) }.max()!
        #expect(worst < 1e-4, "transA=\(transA) transB=\(transB) kernel=\(BLASRuntime.coreName): max error \(worst)")
    }

    @Test func sgemmAccumulatesWithAlphaAndBeta() {
        let a: [Float] = [1, 2, 3, 4]        // [2,2]
        let b: [Float] = [5, 6, 7, 8]        // [2,2]
        var c: [Float] = [1, 1, 1, 1]
        a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in c.withUnsafeMutableBufferPointer { pc in
            BLAS.sgemm(m: 2, n: 2, k: 2, alpha: 2, a: pa.baseAddress!, b: pb.baseAddress!, beta: 1, c: pc.baseAddress!)
        } } }
        #expect(c == [39, 45, 87, 101])  // 2 * [[19,22],[43,50]] + 1
    }

    @Test func kernelChoiceUpgradesOnlyFallbacks() {
        let avx512 = CPUFeatures(modelName: "x", hasAVX2: true, hasAVX512: true)
        let avx2 = CPUFeatures(modelName: "x", hasAVX2: true, hasAVX512: false)
        let plain = CPUFeatures(modelName: "x", hasAVX2: false, hasAVX512: false)
        #expect(BLASRuntime.betterCoreType(current: "Prescott", cpu: avx512, userOverride: nil) == "SkylakeX")
        #expect(BLASRuntime.betterCoreType(current: "Prescott", cpu: avx2, userOverride: nil) == "Haswell")
        #expect(BLASRuntime.betterCoreType(current: "Sandybridge", cpu: avx512, userOverride: nil) == "SkylakeX")
        // A CPU without AVX2 keeps the default; a proper kernel is never touched.
        #expect(BLASRuntime.betterCoreType(current: "Prescott", cpu: plain, userOverride: nil) == nil)
        #expect(BLASRuntime.betterCoreType(current: "SkylakeX", cpu: avx512, userOverride: nil) == nil)
        #expect(BLASRuntime.betterCoreType(current: "Haswell", cpu: avx2, userOverride: nil) == nil)
        // The user's OPENBLAS_CORETYPE always wins.
        #expect(BLASRuntime.betterCoreType(current: "Prescott", cpu: avx512, userOverride: "Haswell") == nil)
    }

    @Test func packSkipsTheKernelReexecution() {
        #expect(!BLASRuntime.needsKernel(arguments: ["fluoro", "pack", "--out", "ds", "run.dcm"]))
        #expect(!BLASRuntime.needsKernel(arguments: ["fluoro", "verify", "ds"]))
        #expect(!BLASRuntime.needsKernel(arguments: ["fluoro", "synth", "--out", "ds", "--sequences", "1"]))
        #expect(BLASRuntime.needsKernel(arguments: ["fluoro", "pretrain", "--data", "ds"]))
        #expect(BLASRuntime.needsKernel(arguments: ["fluoro", "env"]))
        #expect(BLASRuntime.needsKernel(arguments: ["fluoro"]))
        // Only the subcommand position counts: a file named "pack" does not.
        #expect(BLASRuntime.needsKernel(arguments: ["fluoro", "track", "pack"]))
    }

    @Test func cpuinfoParsing() {
        let text = """
        processor\t: 0
        model name\t: Intel(R) Xeon(R) Platinum
        flags\t\t: fpu sse2 avx avx2 fma avx512f avx512cd avx512bw avx512dq avx512vl
        processor\t: 1
        flags\t\t: fpu sse2
        """
        let cpu = CPUFeatures.parse(cpuinfo: text)
        #expect(cpu.modelName == "Intel(R) Xeon(R) Platinum")
        #expect(cpu.hasAVX2 && cpu.hasAVX512)
        let old = CPUFeatures.parse(cpuinfo: "flags : fpu sse2 sse4_2 avx\n")
        #expect(!old.hasAVX2 && !old.hasAVX512)
    }

    @Test func cpuListCounting() {
        #expect(CoreBudget.countCPUs(list: "0-3,8,10-11") == 7)
        #expect(CoreBudget.countCPUs(list: "0") == 1)
        #expect(CoreBudget.countCPUs(list: "bad") == nil)
    }
}

/// The row/column split of `ParallelGEMM` gives the same product as one sgemm.
@Suite struct ParallelGEMMTests {
    @Test(arguments: [(false, false, 3), (false, true, 2), (true, false, 2), (true, true, 3)])
    func splitMatchesSingleCall(transA: Bool, transB: Bool, parts: Int) {
        var rng = SplitMix64(seed: 9)
        for (m, n, k) in [(97, 41, 64), (23, 130, 50)] {  // tall (row split) and wide (column split)
            let a = (0..<(m * k)).map { _ in Float(rng.nextUnit() * 2 - 1) }
            let b = (0..<(k * n)).map { _ in Float(rng.nextUnit() * 2 - 1) }
            let c0 = (0..<(m * n)).map { _ in Float(rng.nextUnit()) }
            var want = c0, got = c0
            a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in
                want.withUnsafeMutableBufferPointer { pc in
                    BLAS.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5, a: pa.baseAddress!,
                               b: pb.baseAddress!, beta: 1, c: pc.baseAddress!)
                }
                got.withUnsafeMutableBufferPointer { pc in
                    ParallelGEMM.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5, a: pa.baseAddress!,
                                       b: pb.baseAddress!, beta: 1, c: pc.baseAddress!, threads: parts)
                }
            } }
            let worst = zip(got, want).map { abs($0 - $1) }.max() ?? 1
            #expect(worst < 1e-5, "m=\(m) n=\(n) k=\(k) transA=\(transA) transB=\(transB): \(worst)")
        }
    }

    /// Both fp32 libraries give the product: oneDNN (the default where it has an engine) and
    /// OpenBLAS, on sub-matrices with row strides, with alpha and beta, every transpose.
    @Test(.enabled(if: DNNLMatmul.engine != nil, "oneDNN has no CPU engine here"),
          arguments: [(false, false), (false, true), (true, false), (true, true)])
    func oneDNNAndOpenBLASAgreeOnStridedProducts(transA: Bool, transB: Bool) throws {
        let (m, n, k, pad) = (45, 29, 64, 7)
        let lda = (transA ? m : k) + pad, ldb = (transB ? k : n) + pad, ldc = n + pad
        var rng = SplitMix64(seed: 17)
        let a = (0..<((transA ? k : m) * lda)).map { _ in Float(rng.nextUnit() * 2 - 1) }
        let b = (0..<((transB ? n : k) * ldb)).map { _ in Float(rng.nextUnit() * 2 - 1) }
        let c0 = (0..<(m * ldc)).map { _ in Float(rng.nextUnit()) }
        var onednn = c0, openblas = c0
        a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in
            onednn.withUnsafeMutableBufferPointer { pc in
                #expect(DNNLMatmul.f32(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.25, a: pa.baseAddress!, lda: lda,
                                       b: pb.baseAddress!, ldb: ldb, beta: 1.5, c: pc.baseAddress!, ldc: ldc))
            }
            openblas.withUnsafeMutableBufferPointer { pc in
                cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                            Int32(m), Int32(n), Int32(k), 0.25, pa.baseAddress!, Int32(lda), pb.baseAddress!, Int32(ldb),
                            1.5, pc.baseAddress!, Int32(ldc))
            }
        } }
        let worst = zip(onednn, openblas).map { abs($0 - $1) }.max() ?? 1
        #expect(worst < 1e-5, "transA=\(transA) transB=\(transB): \(worst)")
        // The padding between rows is left as it was.
        #expect((0..<m).allSatisfy { r in (n..<ldc).allSatisfy { onednn[r * ldc + $0] == c0[r * ldc + $0] } })
    }

    /// A bias [N] is added to every row of the product: in oneDNN's kernel, on the other paths
    /// before the product (`BLAS.addBias`); split over threads the same; with beta 0 and 1.5.
    @Test(arguments: [Float(0), 1.5])
    func sgemmAddsItsBiasToEveryRow(beta: Float) throws {
        var rng = SplitMix64(seed: 23)
        for (m, n, k) in [(150, 40, 100), (20, 160, 100)] {  // split in 3 by rows (tall), by columns (wide)
            let a = (0..<(m * k)).map { _ in Float(rng.nextUnit() * 2 - 1) }
            let b = (0..<(n * k)).map { _ in Float(rng.nextUnit() * 2 - 1) }   // transB: [n, k]
            let bias = (0..<n).map { _ in Float(rng.nextUnit() * 4 - 2) }
            let c0 = (0..<(m * n)).map { _ in Float(rng.nextUnit()) }
            var want = c0
            for i in 0..<m { for j in 0..<n {
                var sum: Double = 0
                for p in 0..<k { sum += Double(a[i * k + p]) * Double(b[j * k + p]) }
                want[i * n + j] = Float(sum) + bias[j] + beta * c0[i * n + j]
            } }
            var single = c0, split = c0, reference = c0
            a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in bias.withUnsafeBufferPointer { pbias in
                single.withUnsafeMutableBufferPointer { pc in
                    BLAS.sgemm(transB: true, m: m, n: n, k: k, a: pa.baseAddress!, b: pb.baseAddress!, beta: beta,
                               c: pc.baseAddress!, bias: pbias.baseAddress!)
                }
                split.withUnsafeMutableBufferPointer { pc in
                    ParallelGEMM.sgemm(transB: true, m: m, n: n, k: k, a: pa.baseAddress!, b: pb.baseAddress!, beta: beta,
                                       c: pc.baseAddress!, bias: pbias.baseAddress!, threads: 3)
                }
                reference.withUnsafeMutableBufferPointer { pc in  // the path without a fused bias
                    let beta1 = BLAS.addBias(pbias.baseAddress!, to: pc.baseAddress!, ldc: n, rows: m, columns: n, beta: beta)
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k), 1, pa.baseAddress!, Int32(k),
                                pb.baseAddress!, Int32(k), beta1, pc.baseAddress!, Int32(n))
                }
            } } }
            for (name, got) in [("sgemm", single), ("split", split), ("addBias + OpenBLAS", reference)] {
                let worst = zip(got, want).map { abs($0 - $1) }.max() ?? 1
                #expect(worst < 1e-4, "\(name) m=\(m) n=\(n) beta=\(beta): \(worst)")
            }
        }
    }
}

/// Runs record the fp32 products' library; resuming under another one warns and says how to continue exactly.
@Suite struct SgemmLibraryResumeTests {
    @Test func resumingUnderAnotherLibraryWarns() {
        #expect(SgemmLibrary.resumeWarning(saved: SgemmLibrary.current.rawValue) == nil)
        #expect(SgemmLibrary.resumeWarning(saved: nil) == nil)  // runs from before it was recorded
        let other: SgemmLibrary = SgemmLibrary.current == .onednn ? .openblas : .onednn
        let warning = SgemmLibrary.resumeWarning(saved: other.rawValue)
        #expect(warning?.contains("FLUORO_SGEMM=\(other.rawValue)") == true)
    }
}
