import Foundation
import Testing

@Suite struct BenchCheckpointCommandTests {
    /// Writing a checkpoint streams the tensors to the file (issue 10, item 13): the write adds
    /// little to the process's peak memory, where building the file in memory added twice its
    /// size (measured before the change: +63 MB for the bench preset's 29 MB file).
    @Test func checkpointWriteAddsNoCopyOfTheFile() throws {
        let result = try FluoroBinary.run(["bench", "checkpoint", "--preset", "bench", "--json"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let file = try #require(object["file_bytes"] as? Int), extra = try #require(object["write_peak_extra_bytes"] as? Int)
        #expect(file > 20_000_000)
        #expect(extra < file / 4, "the write added \(extra) bytes of peak memory for a \(file)-byte file")
        #expect((object["load_seconds"] as? Double ?? -1) >= 0)
    }
}
