import Foundation
import Testing

/// `fluoro inspect` and `fluoro verify` on the committed sample dataset and damaged copies of it.
@Suite struct ShardCommandsTests {
    let sample = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("shards/sample")

    /// A copy of the sample in a scratch directory; the caller removes it.
    private func copyOfSample() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fluoro-cli-shards-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: sample, to: dir)
        return dir
    }

    @Test func inspectSummarisesTheSampleAsJSON() throws {
        let result = try FluoroBinary.run(["inspect", sample.path, "--json"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["sequenceCount"] as? Int == 2)
        #expect(object["frameCount"] as? Int == 7)
        #expect((object["compressionRatio"] as? Double ?? 0) > 0)
        let sequences = try #require(object["sequences"] as? [[String: Any]])
        #expect((sequences[0]["info"] as? [String: Any])?["id"] as? String == "sample-a")
        #expect(sequences[0]["annotated"] as? Bool == true)
        #expect(sequences[1]["layers"] as? [String] == ["catheter_mask"])

        let text = try FluoroBinary.run(["inspect", sample.appendingPathComponent("shard-000000.flsh").path])
        #expect(text.status == 0)
        #expect(text.stdout.contains("2 sequences, 7 frames"))
        #expect(text.stdout.contains("uint16 12-bit"))
    }

    @Test func verifyPassesTheSample() throws {
        let result = try FluoroBinary.run(["verify", sample.path])
        #expect(result.status == 0, "\(result.stdout) \(result.stderr)")
        #expect(result.stdout.contains("OK"))
    }

    @Test func verifyNamesTheShardSequenceAndStreamOfAFlippedByte() throws {
        let dir = try copyOfSample()
        defer { try? FileManager.default.removeItem(at: dir) }
        let shard = dir.appendingPathComponent("shard-000000.flsh")
        var bytes = try Data(contentsOf: shard)
        // The first LZ4 frame (magic 04 22 4D 18) is sequence 0's pixels frame 0; hit its block data.
        let magic = Data([0x04, 0x22, 0x4D, 0x18])
        let start = try #require(bytes.range(of: magic)).lowerBound
        bytes[start + 40] ^= 0x01
        try bytes.write(to: shard)
        let result = try FluoroBinary.run(["verify", dir.path])
        #expect(result.status == 1)
        #expect(result.stdout.contains("shard shard-000000.flsh, sequence 0 (id sample-a), stream pixels frame 0"), "\(result.stdout)")
        #expect(!result.stderr.contains("Fatal"))
    }

    @Test func verifyAndInspectReportATruncatedShard() throws {
        let dir = try copyOfSample()
        defer { try? FileManager.default.removeItem(at: dir) }
        let shard = dir.appendingPathComponent("shard-000000.flsh")
        let bytes = try Data(contentsOf: shard)
        try bytes.prefix(bytes.count / 2).write(to: shard)
        let result = try FluoroBinary.run(["verify", dir.path])
        #expect(result.status == 1)
        #expect(result.stdout.contains("shard-000000.flsh") && result.stdout.contains("truncated"))
        #expect(result.stdout.contains("sequence "), "the cut falls inside a sequence: \(result.stdout)")
        let inspect = try FluoroBinary.run(["inspect", dir.path])
        #expect(inspect.status != 0)
        #expect(inspect.stderr.contains("shard-000000.flsh") && inspect.stderr.contains("fluoro verify"))
    }
}
