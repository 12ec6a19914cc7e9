import FluoroShards
import Foundation
import Testing

/// `fluoro train-labeller` (one rank and `mpirun -np 2`), then `fluoro label --method unet`, and
/// the clear messages for bad input.
@Suite(.serialized) struct LabellerCommandTests {
    static func scratch() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fluoro-unet-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    static func synth(_ out: URL) throws {
        let r = try FluoroBinary.run(["synth", "--out", out.path, "--sequences", "4", "--frames", "3", "--size", "48", "--kind", "angio", "--seed", "2"])
        #expect(r.status == 0, "synth: \(r.stderr)")
    }

    static let trainArguments = ["--preset", "tiny", "--crop", "32", "--steps", "2", "--validate-every", "1", "--validation-crops", "1", "--threads", "1"]

    @Test func twoRanksOfBatchOneMatchOneRankOfBatchTwoAndTheModelLabels() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let shards = dir.appendingPathComponent("shards")
        try Self.synth(shards)
        let one = try FluoroBinary.run(["train-labeller", "--shards", shards.path, "--run", dir.appendingPathComponent("one").path,
                                        "--batch", "2"] + Self.trainArguments)
        #expect(one.status == 0, "stderr: \(one.stderr)")
        #expect(one.stdout.contains("held-out step 1: Dice"), "stdout: \(one.stdout)")
        let two = try FluoroBinary.run(["--allow-run-as-root", "--oversubscribe", "-np", "2", FluoroBinary.url.path, "train-labeller",
                                        "--shards", shards.path, "--run", dir.appendingPathComponent("two").path, "--batch", "1"] + Self.trainArguments,
                                       executable: "mpirun")
        #expect(two.status == 0, "stderr: \(two.stderr)")
        #expect(two.stdout.contains("2 rank(s) x batch 1"), "stdout: \(two.stdout)")
        let a = try Data(contentsOf: dir.appendingPathComponent("one/labeller.safetensors"))
        let b = try Data(contentsOf: dir.appendingPathComponent("two/labeller.safetensors"))
        #expect(a.count == b.count)
        let fa = Self.floats(a), fb = Self.floats(b)
        let worst = zip(fa, fb).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst < 1e-4, "1 x 2 and 2 x 1 differ by \(worst)")

        // Both labellers scored against the masks, and timed.
        let model = dir.appendingPathComponent("one/labeller.safetensors").path
        let json = dir.appendingPathComponent("eval.json")
        let eval = try FluoroBinary.run(["evaluate-labels", "--shards", shards.path, "--model", model, "--contrast", "1,0.5",
                                         "--max-frames", "1", "--json", json.path])
        #expect(eval.status == 0 && eval.stdout.contains("unet") && eval.stdout.contains("frangi"), "\(eval.stdout) \(eval.stderr)")
        #expect(FileManager.default.fileExists(atPath: json.path))
        let bench = try FluoroBinary.run(["bench", "label", "--size", "32", "--frames", "2", "--model", model, "--threads", "1"])
        #expect(bench.status == 0 && bench.stdout.contains("bench label unet") && bench.stdout.contains("bench label frangi"), "\(bench.stdout) \(bench.stderr)")

        // Label the same runs with the U-Net: frames untouched, the layer replaced.
        let before = try ShardDataset(directory: shards)
        let frames = try before.frames(sequence: 0, range: 0..<3), simLayer = try before.layer(.vesselness, sequence: 0, range: 0..<3)
        let label = try FluoroBinary.run(["label", "--shards", shards.path, "--method", "unet", "--model",
                                          dir.appendingPathComponent("one/labeller.safetensors").path, "--replace", "--threads", "2"])
        #expect(label.status == 0, "stderr: \(label.stderr)")
        #expect(label.stdout.contains("labelled 4 sequence(s), 12 frames"), "stdout: \(label.stdout)")
        let after = try ShardDataset(directory: shards)
        #expect(try after.frames(sequence: 0, range: 0..<3) == frames)
        #expect(try after.layer(.vesselness, sequence: 0, range: 0..<3) != simLayer)
        let again = try FluoroBinary.run(["label", "--shards", shards.path, "--method", "unet", "--model",
                                          dir.appendingPathComponent("one/labeller.safetensors").path])
        #expect(again.stdout.contains("labelled 0 sequence(s)") && again.stdout.contains("skipped 4"), "stdout: \(again.stdout)")
        // The model records its 48-px training frames; a working side of 24 halves these 48-px frames.
        #expect(label.stdout.contains("working side of 48 px"), "stdout: \(label.stdout)")
        let half = try FluoroBinary.run(["label", "--shards", shards.path, "--method", "unet", "--model",
                                         dir.appendingPathComponent("one/labeller.safetensors").path, "--replace", "--working-side", "24"])
        #expect(half.status == 0 && half.stdout.contains("working side of 24 px"), "stdout: \(half.stdout) \(half.stderr)")
        #expect(try ShardDataset(directory: shards).layer(.vesselness, sequence: 0, range: 0..<3) != (try after.layer(.vesselness, sequence: 0, range: 0..<3)))
        #expect(try FluoroBinary.run(["verify", shards.path]).status == 0)
    }

    @Test func badInputIsAClearMessage() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let shards = dir.appendingPathComponent("shards")
        try Self.synth(shards)
        let noModel = try FluoroBinary.run(["label", "--shards", shards.path, "--method", "unet"])
        #expect(noModel.status != 0 && noModel.stderr.contains("--method unet needs --model"), "stderr: \(noModel.stderr)")
        let frangiSide = try FluoroBinary.run(["label", "--shards", shards.path, "--working-side", "256"])
        #expect(frangiSide.status != 0 && frangiSide.stderr.contains("--working-side is for --method unet"), "stderr: \(frangiSide.stderr)")
        let negative = try FluoroBinary.run(["label", "--shards", shards.path, "--method", "unet", "--model", "m", "--working-side=-1"])
        #expect(negative.status != 0 && negative.stderr.contains("--working-side must be 0"), "stderr: \(negative.stderr)")
        let notModel = dir.appendingPathComponent("manifest-as-model")
        try Data("not a model".utf8).write(to: notModel)
        let wrong = try FluoroBinary.run(["label", "--shards", shards.path, "--method", "unet", "--model", notModel.path])
        #expect(wrong.status != 0 && wrong.stderr.contains("is not a Fluoro U-Net labeller"), "stderr: \(wrong.stderr)")
        let bigCrop = try FluoroBinary.run(["train-labeller", "--shards", shards.path, "--run", dir.appendingPathComponent("r").path,
                                            "--preset", "tiny", "--crop", "64", "--steps", "1"])
        #expect(bigCrop.status != 0 && bigCrop.stderr.contains("smaller than the 64-px training crop"), "stderr: \(bigCrop.stderr)")
        let oddCrop = try FluoroBinary.run(["train-labeller", "--shards", shards.path, "--run", dir.appendingPathComponent("r").path, "--crop", "40"])
        #expect(oddCrop.status != 0 && oddCrop.stderr.contains("multiple of 16"), "stderr: \(oddCrop.stderr)")
    }

    @Test func datasetWithoutVesselMasksCannotTrain() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let shards = dir.appendingPathComponent("shards")
        let pack = try FluoroBinary.run(["pack", "--out", shards.path, PackCommandTests.dicomDirectory.appendingPathComponent("xa_balloon_17f.dcm").path])
        #expect(pack.status == 0, "stderr: \(pack.stderr)")
        let train = try FluoroBinary.run(["train-labeller", "--shards", shards.path, "--run", dir.appendingPathComponent("r").path, "--steps", "1"])
        #expect(train.status != 0 && train.stderr.contains("no sequence with a vessel_mask layer"), "stderr: \(train.stderr)")
    }

    /// The float32 payload of a safetensors file (after its 8-byte header length and JSON header).
    static func floats(_ data: Data) -> [Float] {
        let n = Int(data.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        let body = data.dropFirst(8 + n)
        return body.withUnsafeBytes { raw in (0..<(body.count / 4)).map { raw.loadUnaligned(fromByteOffset: 4 * $0, as: Float.self) } }
    }
}
