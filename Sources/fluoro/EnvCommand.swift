import ArgumentParser
import FluoroDistributed
import FluoroSupport
import FluoroTensor
import Foundation

/// `fluoro env`: what someone debugging a cluster job needs to know about this process.
struct EnvCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "env",
        abstract: "Print versions, MPI rank/size, the BLAS kernel and threads, CPU features (bf16 too), oneDNN's bf16 product and measured GEMM speeds.")

    @OptionGroup var runtime: RuntimeOptions

    @Flag(help: "Print JSON (one object per rank under mpirun) instead of text.")
    var json = false

    @Flag(help: "Under mpirun, print every rank's report, not only rank 0's.")
    var allRanks = false

    @Option(help: "Matrix side for the sgemm measurement.")
    var sgemmSize = 512

    /// When the environment forces a kernel, what OpenBLAS would run without it, measured in a
    /// child process (`FLUORO_ENV_NO_PROBE` stops the recursion); nil when nothing is forced.
    func kernelWithoutOverride() -> [(String, String)]? {
        let env = ProcessInfo.processInfo.environment
        guard let forced = env["OPENBLAS_CORETYPE"], !forced.isEmpty, env[BLASRuntime.replacedKernelVariable] == nil,
              env["FLUORO_ENV_NO_PROBE"] == nil, !MPICommunicator.launchedByMPI else { return nil }
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("fluoro-env-probe-\(getpid()).json")
        defer { try? FileManager.default.removeItem(at: output) }
        guard FileManager.default.createFile(atPath: output.path, contents: nil),
              let handle = try? FileHandle(forWritingTo: output) else { return nil }
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/proc/self/exe")
        child.arguments = ["env", "--json", "--sgemm-size", "\(sgemmSize)", "--threads", "\(runtime.resolvedThreads)"]
        var childEnv = env.filter { $0.key != "OPENBLAS_CORETYPE" && $0.key != "OPENBLAS_L2_SIZE" }
        childEnv["FLUORO_ENV_NO_PROBE"] = "1"
        child.environment = childEnv
        child.standardOutput = handle
        child.standardError = FileHandle.nullDevice
        guard (try? child.run()) != nil else { return nil }
        child.waitUntilExit()
        try? handle.close()
        guard child.terminationStatus == 0, let data = try? Data(contentsOf: output),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: String],
              let kernel = object["blas_kernel"], let gflops = object["sgemm_gflops"] else { return nil }
        return [("blas_kernel_without_override", kernel + " (chosen when OPENBLAS_CORETYPE=\(forced) is unset)"),
                ("sgemm_gflops_without_override", gflops)]
    }

    /// What `--precision bf16` would run on: the CPU's bf16 instructions, oneDNN's version and ISA,
    /// the implementation it picks for a bf16 product and the measured speed of bf16 and oneDNN fp32.
    func bf16Report(_ cpu: CPUFeatures) -> [(String, String)] {
        var rows: [(String, String)] = [
            ("cpu_avx512_bf16", cpu.hasAVX512BF16 ? "yes" : "no"),
            ("cpu_amx_bf16", cpu.hasAMXBF16 ? "yes" : "no"),
            ("onednn", DNNLMatmul.version + " (ISA \(DNNLMatmul.effectiveISA))"),
        ]
        if let failure = DNNLMatmul.probeBF16() {
            rows.append(("bf16_matmul", "unavailable: \(failure)"))
            return rows
        }
        let n = sgemmSize
        rows += [
            ("bf16_matmul_impl", DNNLMatmul.implementationName(.bf16, m: n, n: n, k: n)
                + (MatrixPrecision.hardwareHasBF16 ? "" : " (emulated: --precision bf16 needs --allow-bf16-emulation)")),
            ("bf16_gemm_gflops", String(format: "%.1f", DNNLMatmul.measureGFLOPS(.bf16, n: n))),
            ("onednn_f32_matmul_impl", DNNLMatmul.implementationName(.f32, m: n, n: n, k: n)),
            ("onednn_f32_gemm_gflops", String(format: "%.1f", DNNLMatmul.measureGFLOPS(.f32, n: n))),
        ]
        return rows
    }

    /// Whether compute threads flush subnormal floats to zero (docs/BENCHMARKS.md, "Subnormal floats").
    static func subnormalReport() -> String {
        Parallel.prepareThread()
        return Parallel.flushesSubnormals ? "flushed to zero on compute threads (FTZ + DAZ)" : "kept (no flush-to-zero mode on this CPU)"
    }

    func run() throws {
        runtime.apply()
        let cpu = CPUFeatures.current
        var report: [(String, String)] = [
            ("fluoro", FluoroVersion.fluoro),
            ("swift", FluoroVersion.swift),
            ("mpi_library", MPICommunicator.libraryVersion),
        ]
        var rank = 0
        if MPICommunicator.launchedByMPI {
            let world = MPICommunicator.world
            rank = world.rank
            // Check collectives work: the sum of (rank + 1) over all ranks is size*(size+1)/2.
            var probe: [Float] = [Float(world.rank + 1)]
            try world.allReduceSum(&probe)
            let expected = Float(world.size * (world.size + 1) / 2)
            report += [
                ("mpi_rank", "\(world.rank)"),
                ("mpi_size", "\(world.size)"),
                ("mpi_allreduce", probe[0] == expected ? "ok" : "WRONG: got \(probe[0]), expected \(expected)"),
            ]
        } else {
            report += [("mpi_rank", "0"), ("mpi_size", "1 (not launched by mpirun)")]
        }
        let gflops = BLASRuntime.measureSgemmGFLOPS(n: sgemmSize)
        report += [
            ("sgemm_library", SgemmLibrary.current.rawValue + " (\(SgemmLibrary.variable)=onednn|openblas)"),
            ("blas_kernel", BLASRuntime.coreName),
            ("blas_kernel_origin", BLASRuntime.kernelOrigin),
            ("blas_threads", "\(BLASRuntime.threads)"),
            ("cores_allowed", "\(CoreBudget.allowedCPUs)"),
            ("ranks_on_this_machine", "\(CoreBudget.ranksOnThisMachine)"),
            ("cpu", cpu.modelName),
            ("cpu_features", cpu.summary),
            ("sgemm_gflops", String(format: "%.1f", gflops)),
            ("subnormal_floats", Self.subnormalReport()),
            ("sgemm_size", "\(sgemmSize)"),
            ("host", ProcessInfo.processInfo.hostName),
        ]
        report += bf16Report(cpu)
        if let alternative = kernelWithoutOverride() { report += alternative }
        guard rank == 0 || allRanks else { return }
        if json {
            let object = Dictionary(uniqueKeysWithValues: report)
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            let width = report.map(\.0.count).max() ?? 0
            for (key, value) in report {
                print(key.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + value)
            }
        }
    }
}
