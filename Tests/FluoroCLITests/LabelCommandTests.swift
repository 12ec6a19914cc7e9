import FluoroShards
import Foundation
import Testing

/// `fluoro label` on the two real runs: the layer lands, nothing else changes, pretraining accepts it.
@Suite struct LabelCommandTests {
    @Test func labelsPackedRunsOnceAndPretrainingAcceptsThem() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fluoro-label-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let shards = dir.appendingPathComponent("shards")
        let inputs = ["xa_balloon_17f.dcm", "xa_rca_96f.dcm"].map { PackCommandTests.dicomDirectory.appendingPathComponent($0).path }
        let pack = try FluoroBinary.run(["pack", "--out", shards.path] + inputs)
        #expect(pack.status == 0, "stderr: \(pack.stderr)")

        let before = try ShardDataset(directory: shards)
        let pixelsBefore = try (0 ..< 2).map { try before.frames(sequence: $0, range: 0 ..< before.info(sequence: $0).frameCount) }
        #expect((0 ..< 2).allSatisfy { !before.layerKinds(sequence: $0).contains(.vesselness) })

        // The 96-frame run gets a layer first (as if an earlier pass had been interrupted after it):
        // the pass must skip it, and filtering only the 17-frame run keeps the debug test quick.
        let rca = try #require((0 ..< 2).first { before.info(sequence: $0).frameCount == 96 })
        let balloon = 1 - rca
        let placeholder = Data(repeating: 7, count: 96 * 512 * 512)
        try ShardLayers.add(.vesselness, to: shards, sequences: [rca]) { _, _ in placeholder }

        let label = try FluoroBinary.run(["label", "--shards", shards.path, "--threads", "2"])
        #expect(label.status == 0, "stderr: \(label.stderr)")
        #expect(label.stdout.contains("labelled 1 sequence(s), 17 frames"), "stdout: \(label.stdout)")
        #expect(label.stdout.contains("skipped 1 sequence(s)"))
        #expect(try FluoroBinary.run(["verify", shards.path]).status == 0)

        let after = try ShardDataset(directory: shards)
        #expect(balloon != rca)
        for s in 0 ..< 2 {
            let info = after.info(sequence: s)
            #expect(after.layerKinds(sequence: s).contains(.vesselness))
            #expect(try after.frames(sequence: s, range: 0 ..< info.frameCount) == pixelsBefore[s])
            let layer = try #require(try after.layer(.vesselness, sequence: s, range: 0 ..< info.frameCount))
            #expect(layer.count == info.frameCount * info.width * info.height)
            if s == rca { #expect(layer == placeholder); continue }
            // Normalised per frame: every frame reaches 255 and most pixels are well below it.
            let plane = info.width * info.height
            #expect(layer[0 ..< plane].max() == 255)
            #expect(layer[0 ..< plane].filter { $0 > 128 }.count < plane / 4)
        }

        let again = try FluoroBinary.run(["label", "--shards", shards.path])
        #expect(again.status == 0)
        #expect(again.stdout.contains("labelled 0 sequence(s), 0 frames"), "stdout: \(again.stdout)")
        #expect(again.stdout.contains("skipped 2 sequence(s)"))

        let pretrain = try FluoroBinary.run(["pretrain", "--shards", shards.path, "--run", dir.appendingPathComponent("run").path,
                                             "--preset", "tiny", "--steps", "2", "--batch", "1", "--threads", "1"])
        #expect(pretrain.status == 0, "stdout: \(pretrain.stdout) stderr: \(pretrain.stderr)")
    }

    @Test func missingDatasetIsAClearError() throws {
        let result = try FluoroBinary.run(["label", "--shards", "/nonexistent/ds"])
        #expect(result.status != 0)
        #expect((result.stdout + result.stderr).contains("not a shard dataset"))
    }
}
