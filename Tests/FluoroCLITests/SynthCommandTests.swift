import Foundation
import Testing

/// `fluoro synth` writes a shard dataset that `inspect` and `verify` accept.
@Suite struct SynthCommandTests {
    @Test func synthWritesAVerifiableDatasetWithEveryLayer() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fluoro-synth-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try FluoroBinary.run(["synth", "--out", dir.path, "--sequences", "3", "--frames", "4", "--size", "64",
                                           "--kind", "angio", "--seed", "7", "--threads", "2"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("3 sequences (3 angio, 0 fluoro), 12 frames of 64x64"), "\(result.stdout)")

        let inspect = try FluoroBinary.run(["inspect", dir.path, "--json"])
        #expect(inspect.status == 0, "stderr: \(inspect.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(inspect.stdout.utf8)) as? [String: Any])
        #expect(object["sequenceCount"] as? Int == 3)
        #expect(object["frameCount"] as? Int == 12)
        let sequences = try #require(object["sequences"] as? [[String: Any]])
        let info = try #require(sequences.last?["info"] as? [String: Any])
        #expect(info["id"] as? String == "syn-7-2")
        #expect(info["source"] as? String == "synth:angio")
        #expect(Set(sequences[0]["layers"] as? [String] ?? []) == ["vesselness", "vessel_mask", "catheter_mask"])
        #expect(sequences[0]["annotated"] as? Bool == true)

        let verify = try FluoroBinary.run(["verify", dir.path])
        #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")
    }

    @Test func synthRefusesToRunWithoutAnOutput() throws {
        let result = try FluoroBinary.run(["synth", "--sequences", "1"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("--dry-run"))
    }
}
