import Foundation
import Testing

@Suite struct BenchAllreduceCommandTests {
    private func parse(_ stdout: String) throws -> [String: Any] {
        let line = try #require(stdout.split(separator: "\n").first { $0.hasPrefix("{") }, "no JSON in: \(stdout)")
        return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    static func mpirun(_ ranks: Int, _ arguments: [String]) throws -> FluoroBinary.Output {
        try FluoroBinary.run(["--allow-run-as-root", "--oversubscribe", "-np", "\(ranks)", FluoroBinary.url.path,
                              "bench", "allreduce"] + arguments, executable: "mpirun")
    }

    /// Two and three ranks under mpirun, every path: rank r holds (r + 1)·(i % 17), so the exact
    /// sum (i % 17)·n(n+1)/2 differs from every rank's own values (an identity "reduction" fails),
    /// and every rank verifies it (--check); rank 0 alone prints, with busbw = algbw·2(n-1)/n.
    @Test(arguments: [2, 3], ["blocking", "buckets", "overlapped"])
    func ranksReduceToTheExactSum(ranks: Int, path: String) throws {
        let result = try Self.mpirun(ranks, ["--sizes", "1000,4K,300K", "--repeats", "2", "--check", "--json",
                                             "--path", path, "--bucket", "64K"])
        #expect(result.status == 0, "mpirun failed: \(result.stderr)")
        #expect(result.stdout.split(separator: "\n").filter { $0.hasPrefix("{") }.count == 1, "only rank 0 prints")
        let report = try parse(result.stdout)
        #expect(report["ranks"] as? Int == ranks)
        #expect(report["check"] as? String == "ok")
        #expect(report["path"] as? String == path)
        let rows = try #require(report["results"] as? [[String: Any]])
        #expect(rows.compactMap { $0["bytes"] as? Int } == [1000, 4096, 300 * 1024])
        let factor = 2 * Double(ranks - 1) / Double(ranks)
        for row in rows {
            let algbw = try #require(row["algbw_gbps"] as? Double), busbw = try #require(row["busbw_gbps"] as? Double)
            let time = try #require(row["median_us"] as? Double)
            #expect(time > 0 && algbw > 0)
            #expect(abs(busbw - algbw * factor) <= 1e-12 * algbw)
        }
    }

    /// GradientReducer's overlapped path (non-blocking buckets started as "backward" marks layers
    /// that straddle buckets) against its blocking path, on inexact, rank-dependent values whose
    /// float sums round: both equal the mean over ranks, every rank gets the same bits from each
    /// path, and with 2 ranks the paths agree bit for bit. With 3 ranks Open MPI's MPI_Iallreduce
    /// adds in another order than MPI_Allreduce, so the paths may differ by a few ulps (they do on
    /// this machine; the command allows 1e-6 relative there).
    @Test(arguments: [2, 3])
    func overlappedMatchesBlocking(ranks: Int) throws {
        let result = try Self.mpirun(ranks, ["--sizes", "300K", "--repeats", "1", "--compare-paths", "--json", "--bucket", "16K"])
        #expect(result.status == 0, "mpirun failed: \(result.stderr)")
        let report = try parse(result.stdout)
        #expect(report["ranks"] as? Int == ranks)
        #expect(report["check"] as? String == "ok", "\(result.stderr)")
        let identical = try #require(report["paths_bit_identical"] as? Bool)
        if ranks == 2 { #expect(identical) }
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
