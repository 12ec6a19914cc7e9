import COpenBLAS
import FluoroSupport
import Foundation

/// OpenBLAS's run-time state: which kernel it picked, how many threads it uses, and the logic
/// that moves a process off a fallback kernel on CPUs OpenBLAS does not recognise.
public enum BLASRuntime {
    /// The kernel OpenBLAS is running ("SkylakeX", "Haswell", "Prescott", ...).
    public static var coreName: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    /// OpenBLAS's build configuration string.
    public static var config: String {
        guard let text = openblas_get_config() else { return "unknown" }
        return String(cString: text)
    }

    /// Threads OpenBLAS uses for one call.
    public static var threads: Int { Int(openblas_get_num_threads()) }

    /// Sets the threads OpenBLAS uses (at least one).
    public static func setThreads(_ n: Int) { openblas_set_num_threads(Int32(max(1, n))) }

    /// Stops OpenBLAS's thread pool, for commands that never call it (`commandsWithoutBLAS`).
    /// OpenBLAS (the pthreads build) starts its worker threads when the library loads, and they
    /// spin on `sched_yield` for about 0.1 s before sleeping: the whole of a short command such as
    /// `pack` on two runs, where they took about a third of its CPU and 15% of its wall time from
    /// the decoding and compressing threads (docs/BENCHMARKS.md, "Clinical ingest"). A later BLAS
    /// call would start the pool again (OpenBLAS restarts it on its next threaded call). Looked up at
    /// run time: OpenMP builds have no such pool.
    public static func stopThreadPool() {
        guard let symbol = dlsym(nil, "blas_thread_shutdown_") else { return }  // nil: RTLD_DEFAULT on glibc
        typealias Shutdown = @convention(c) () -> Int32
        _ = unsafeBitCast(symbol, to: Shutdown.self)()
    }

    /// Kernel families, ordered by the vector width they use.
    public enum KernelClass: Int, Comparable, Sendable {
        case generic = 0, avx = 1, avx2 = 2, avx512 = 3
        public static func < (l: Self, r: Self) -> Bool { l.rawValue < r.rawValue }
    }

    /// The family of an OpenBLAS core name (unknown names count as generic).
    public static func kernelClass(of coreName: String) -> KernelClass {
        switch coreName.lowercased() {
        case "skylakex", "cooperlake", "sapphirerapids": return .avx512
        case "haswell", "zen", "skylake": return .avx2
        case "sandybridge", "bulldozer", "piledriver", "steamroller", "excavator": return .avx
        default: return .generic
        }
    }

    /// The kernel to force on this CPU when OpenBLAS runs `current`, or nil to keep it.
    /// Only a kernel below what the CPU supports is replaced, and never by one the CPU lacks;
    /// an explicit `OPENBLAS_CORETYPE` (`userOverride`) always wins.
    public static func betterCoreType(current: String, cpu: CPUFeatures, userOverride: String?) -> String? {
        if let userOverride, !userOverride.isEmpty { return nil }
        let best: (name: String, cls: KernelClass)?
        if cpu.hasAVX512 { best = ("SkylakeX", .avx512) }
        else if cpu.hasAVX2 { best = ("Haswell", .avx2) }
        else { best = nil }
        guard let best, kernelClass(of: current) < best.cls else { return nil }
        return best.name
    }

    /// Environment variable set on the re-executed process: the kernel OpenBLAS had chosen by itself.
    public static let replacedKernelVariable = "FLUORO_BLAS_REPLACED_KERNEL"

    /// Subcommands that never call OpenBLAS (`pack`: DICOM/NumPy ingest and LZ4 shards; `synth`:
    /// the simulator; `inspect` and `verify`: reading shards), so the kernel it picked does not
    /// matter: `ensureProperKernel`'s re-execution is skipped and its thread pool stopped.
    public static let commandsWithoutBLAS: Set<String> = ["pack", "synth", "inspect", "verify"]

    /// False when `arguments` (the command line, executable first) run a subcommand that never
    /// calls OpenBLAS; true otherwise (the kernel matters, or cannot be told from the arguments).
    public static func needsKernel(arguments: [String]) -> Bool {
        guard arguments.count > 1 else { return true }
        return !commandsWithoutBLAS.contains(arguments[1])
    }

    /// Call first thing in `main`: if OpenBLAS fell back to a kernel below this CPU's class,
    /// set `OPENBLAS_CORETYPE` and re-execute this binary with the same arguments (OpenBLAS reads
    /// the variable only when it loads). Returns only when no re-exec is needed or it failed.
    public static func ensureProperKernel() {
        let env = ProcessInfo.processInfo.environment
        guard env[replacedKernelVariable] == nil else { return }  // already re-executed once
        let current = coreName
        guard let target = betterCoreType(current: current, cpu: .current,
                                          userOverride: env["OPENBLAS_CORETYPE"]) else { return }
        setenv("OPENBLAS_CORETYPE", target, 1)
        setenv(replacedKernelVariable, current, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // exec failed (no /proc): carry on with the fallback kernel and say so.
        Log.info("warning: OpenBLAS runs its \(current) kernel; could not re-execute with \(target) (errno \(errno))")
        unsetenv("OPENBLAS_CORETYPE")
    }

    /// How the current kernel was chosen, for `fluoro env`.
    public static var kernelOrigin: String {
        let env = ProcessInfo.processInfo.environment
        if let replaced = env[replacedKernelVariable] {
            return "chosen by fluoro for this CPU (OpenBLAS alone picked \(replaced))"
        }
        if let user = env["OPENBLAS_CORETYPE"], !user.isEmpty {
            return "from OPENBLAS_CORETYPE=\(user) in the environment"
        }
        return "OpenBLAS's own choice"
    }

    /// Measures OpenBLAS's single-precision matrix-product speed (its kernel's, whichever library
    /// `BLAS.sgemm` uses): the median GFLOP/s over `repeats` timed products of two n x n matrices
    /// (after one warm-up).
    public static func measureSgemmGFLOPS(n: Int = 512, repeats: Int = 7) -> Double {
        var a = [Float](repeating: 0, count: n * n)
        var b = [Float](repeating: 0, count: n * n)
        for i in 0..<(n * n) { a[i] = Float(i % 7) * 0.1; b[i] = Float(i % 5) * 0.1 }
        var c = [Float](repeating: 0, count: n * n)
        var seconds: [Double] = []
        for r in 0...repeats {
            let t0 = DispatchTime.now().uptimeNanoseconds
            a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in c.withUnsafeMutableBufferPointer { pc in
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(n), Int32(n), 1,
                            pa.baseAddress!, Int32(n), pb.baseAddress!, Int32(n), 0, pc.baseAddress!, Int32(n))
            } } }
            let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            if r > 0 { seconds.append(dt) }
        }
        seconds.sort()
        let median = seconds[seconds.count / 2]
        return 2 * Double(n) * Double(n) * Double(n) / median / 1e9
    }
}
