import Foundation
import Testing

@Suite struct BenchAllreduceCommandTests {
    private func parse(_ stdout: String) throws -> [String: Any] {
        let line = try #require(stdout.split(separator: "\n").first { $0.hasPrefix("{") }, "no JSON in: \(stdout)")
        return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    /// Two ranks under mpirun, every path: every rank verifies the reduced values (--check), and
    /// rank 0 alone prints one row per size with busbw = algbw * 2(n-1)/n = algbw for n = 2.
    @Test(arguments: ["blocking", "buckets", "overlapped"])
    func twoRanksReduceCorrectly(path: String) throws {
        let result = try FluoroBinary.run(
            ["--allow-run-as-root", "--oversubscribe", "-np", "2", FluoroBinary.url.path,
             "bench", "allreduce", "--sizes", "1000,4K,300K", "--repeats", "2", "--check", "--json",
             "--path", path, "--bucket", "64K"],
            executable: "mpirun")
        #expect(result.status == 0, "mpirun failed: \(result.stderr)")
        #expect(result.stdout.split(separator: "\n").filter { $0.hasPrefix("{") }.count == 1, "only rank 0 prints")
        let report = try parse(result.stdout)
        #expect(report["ranks"] as? Int == 2)
        #expect(report["check"] as? String == "ok")
        #expect(report["path"] as? String == path)
        let rows = try #require(report["results"] as? [[String: Any]])
        #expect(rows.compactMap { $0["bytes"] as? Int } == [1000, 4096, 300 * 1024])
        for row in rows {
            let algbw = try #require(row["algbw_gbps"] as? Double), busbw = try #require(row["busbw_gbps"] as? Double)
            let time = try #require(row["median_us"] as? Double)
            #expect(time > 0 && algbw > 0)
            #expect(abs(busbw - algbw) <= 1e-12 * algbw)
        }
    }

    /// Without mpirun: an MPI singleton, one rank, bus bandwidth 0 by definition.
    @Test func singleProcessTable() throws {
        let result = try FluoroBinary.run(["bench", "allreduce", "--sizes", "4K", "--repeats", "1", "--check"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("over 1 rank(s)"))
        #expect(result.stdout.contains("check: ok"))
    }

    @Test func badSizeIsAClearError() throws {
        let result = try FluoroBinary.run(["bench", "allreduce", "--sizes", "4K,lots"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("'lots' is not a size"))
    }
}
