import Foundation
import FluoroSupport
import Testing

@Suite struct EnvCommandTests {
    private func parse(_ line: Substring) throws -> [String: String] {
        try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String] ?? [:]
    }

    @Test func reportsEverythingAndAProperKernel() throws {
        let result = try FluoroBinary.run(["env", "--json", "--sgemm-size", "256"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let report = try parse(Substring(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        for key in ["fluoro", "swift", "mpi_library", "blas_kernel", "blas_threads", "cpu_features", "sgemm_gflops"] {
            #expect(report[key] != nil, "missing \(key)")
        }
        #expect(report["fluoro"] == FluoroVersion.fluoro)
        #expect((Double(report["sgemm_gflops"] ?? "") ?? 0) > 0)
        #if arch(x86_64)
        #expect(report["subnormal_floats"]?.hasPrefix("flushed to zero") == true, "\(report["subnormal_floats"] ?? "missing")")
        #endif
        // Whatever chose it, the kernel must not be a fallback below this CPU's class.
        let cpu = CPUFeatures.current
        let kernel = report["blas_kernel"] ?? ""
        if cpu.hasAVX2 {
            #expect(!["Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Atom"].contains(kernel),
                    "OpenBLAS runs the fallback kernel \(kernel) on an AVX2 CPU")
        }
    }

    /// A forced kernel is honoured, and env says what OpenBLAS would pick without it.
    @Test func forcedKernelIsHonouredAndTheAlternativeShown() throws {
        var environment = FluoroBinary.cleanEnvironment
        environment["OPENBLAS_CORETYPE"] = "Prescott"
        let result = try FluoroBinary.run(["env", "--json", "--sgemm-size", "64", "--threads", "1"], environment: environment)
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let report = try parse(Substring(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(report["blas_kernel"] == "Prescott")
        #expect(report["blas_kernel_origin"]?.contains("OPENBLAS_CORETYPE=Prescott") == true)
        let alternative = try #require(report["blas_kernel_without_override"])
        if CPUFeatures.current.hasAVX2 { #expect(!alternative.hasPrefix("Prescott"), "\(alternative)") }
    }

    @Test func threadsOptionReachesBLAS() throws {
        let result = try FluoroBinary.run(["env", "--json", "--threads", "1", "--sgemm-size", "64"])
        #expect(result.status == 0)
        let report = try parse(Substring(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(report["blas_threads"] == "1")
    }

    @Test func badThreadsIsAClearError() throws {
        let result = try FluoroBinary.run(["env", "--threads", "0"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("--threads must be at least 1"))
    }

    /// Two ranks under mpirun: each reports its rank and a correct all-reduce.
    @Test func twoRankAllReduceUnderMpirun() throws {
        let result = try FluoroBinary.run(
            ["--allow-run-as-root", "--oversubscribe", "-np", "2", FluoroBinary.url.path,
             "env", "--json", "--all-ranks", "--threads", "1", "--sgemm-size", "64"],
            executable: "mpirun")
        #expect(result.status == 0, "mpirun failed: \(result.stderr)")
        let reports = try result.stdout.split(separator: "\n").filter { $0.hasPrefix("{") }.map(parse)
        #expect(reports.count == 2)
        #expect(Set(reports.compactMap { $0["mpi_rank"] }) == ["0", "1"])
        for report in reports {
            #expect(report["mpi_size"] == "2")
            #expect(report["mpi_allreduce"] == "ok")
        }
    }
}
