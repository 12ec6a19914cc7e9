import Foundation
import Testing

@Suite struct BenchLoaderCommandTests {
    /// The benchmark runs end to end on its temporary synthetic dataset and reports sane numbers.
    @Test func reportsDecodeAndLoaderSpeed() throws {
        let result = try FluoroBinary.run(["bench", "loader", "--preset", "tiny", "--batches", "2", "--repeats", "1",
                                           "--workers", "0,2", "--synthetic-sequences", "2", "--json"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect((object["reader_gbps"] as? Double ?? 0) > 0)
        #expect((object["lz4_cli_gbps"] as? Double ?? 0) > 0)
        #expect((object["compression_ratio"] as? Double ?? 0) >= 1)
        let loader = try #require(object["loader"] as? [[String: Any]])
        #expect(loader.count == 2)
        #expect(loader.allSatisfy { ($0["clips_per_s"] as? Double ?? 0) > 0 })
    }
}
