import Foundation
import Testing

@Suite struct BenchStepCommandTests {
    private func report(_ output: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
    }

    @Test func timesAWholeStep() throws {
        let result = try FluoroBinary.run(["bench", "step", "--preset", "tiny", "--steps", "2", "--threads", "1", "--json"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let r = try report(result.stdout)
        #expect((r["clips_per_s"] as? Double ?? 0) > 0)
        #expect((r["gflops"] as? Double ?? 0) > 0)
        #expect((r["peak_rss_mib"] as? Double ?? 0) > 1)
        #expect((r["parameters"] as? Int ?? 0) > 10_000)
    }

    /// Under mpirun the step includes the gradient all-reduce, and rank 0 alone reports.
    @Test func reportsCommunicationUnderMpirun() throws {
        let result = try FluoroBinary.run(["--allow-run-as-root", "--oversubscribe", "-np", "2", FluoroBinary.url.path,
                                           "bench", "step", "--preset", "tiny", "--steps", "2", "--threads", "1", "--json"],
                                          executable: "mpirun")
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let lines = result.stdout.split(separator: "\n").filter { $0.hasPrefix("{") }
        #expect(lines.count == 1)
        let r = try report(String(lines.first ?? ""))
        #expect(r["ranks"] as? Int == 2)
        #expect((r["allreduce_ms"] as? Double ?? -1) >= 0)
    }
}
