import FluoroShards
import Foundation
import Testing

@Suite struct PackCommandTests {
    static let dicomDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("FluoroShardsTests/Fixtures/dicom")

    private func scratch() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fluoro-pack-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Mean pixel value of a whole 8-bit sequence in a dataset.
    private func mean(_ dataset: ShardDataset, _ index: Int) throws -> Double {
        let info = dataset.info(sequence: index)
        let pixels = try dataset.frames(sequence: index, range: 0..<info.frameCount)
        return Double(pixels.reduce(0) { $0 + Int($1) }) / Double(pixels.count)
    }

    @Test func packsTheRealRunsAndSkipsABadFile() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let inputs = dir.appendingPathComponent("in")
        try FileManager.default.createDirectory(at: inputs, withIntermediateDirectories: true)
        for name in ["xa_balloon_17f.dcm", "xa_rca_96f.dcm", "README.md"] {
            try FileManager.default.copyItem(at: Self.dicomDirectory.appendingPathComponent(name), to: inputs.appendingPathComponent(name))
        }
        // A truncated copy: recognised as DICOM, fails to parse, must be reported and skipped.
        let whole = try Data(contentsOf: Self.dicomDirectory.appendingPathComponent("xa_balloon_17f.dcm"))
        try whole.prefix(3000).write(to: inputs.appendingPathComponent("broken.dcm"))
        let out = dir.appendingPathComponent("ds")

        let result = try FluoroBinary.run(["pack", "--out", out.path, inputs.path])
        #expect(result.status == 3, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("2 sequence(s), 113 frames"))
        #expect(result.stdout.contains("1 input(s) could not be read"))
        #expect(result.stdout.contains("broken.dcm"))

        let dataset = try ShardDataset(directory: out)
        #expect(dataset.sequenceCount == 2)
        let byFrames = Dictionary(uniqueKeysWithValues: (0..<2).map { (dataset.info(sequence: $0).frameCount, $0) })
        let balloon = try #require(byFrames[17]), rca = try #require(byFrames[96])
        #expect(dataset.info(sequence: balloon).width == 512 && dataset.info(sequence: balloon).height == 512)
        #expect(abs(try mean(dataset, balloon) - 34.851) < 1.0)
        #expect(abs(try mean(dataset, rca) - 67.660) < 1.0)

        // Packing again adds nothing: the runs are recognised by their de-identified ids.
        let again = try FluoroBinary.run(["pack", "--out", out.path, inputs.appendingPathComponent("xa_rca_96f.dcm").path])
        #expect(again.status == 0)
        #expect(again.stdout.contains("1 file(s) already in the dataset"))
        #expect(try ShardDataset(directory: out).sequenceCount == 2)
        #expect(try FluoroBinary.run(["verify", out.path]).status == 0)
    }

    @Test func missingInputIsAClearError() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try FluoroBinary.run(["pack", "--out", dir.appendingPathComponent("ds").path, "/nonexistent/run.dcm"])
        #expect(result.status != 0)
        #expect(result.stdout.contains("/nonexistent/run.dcm: no such file or directory"))
    }

    /// Compressed syntaxes pack beside broken files; every broken file gets one line naming it and
    /// the process survives GDCM's assertions on them (exit 3, the good runs packed).
    @Test func packsEveryCompressedSyntaxAndNamesEachBrokenFile() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let inputs = dir.appendingPathComponent("in")
        try FileManager.default.createDirectory(at: inputs, withIntermediateDirectories: true)
        let syntaxes = Self.dicomDirectory.deletingLastPathComponent().appendingPathComponent("syntaxes")
        // One file per base (lossless re-encodings keep their base's SOP Instance UID, so two of one
        // base would be the same run to `pack`).
        let good = ["base8_jpeg_lossless.dcm", "base12_jpegls.dcm", "base16_j2k.dcm", "base12_mono1_jpeg_lossless.dcm",
                    "enhanced8_jpeg_lossless.dcm"]
        for name in good {
            try FileManager.default.copyItem(at: syntaxes.appendingPathComponent(name), to: inputs.appendingPathComponent(name))
        }
        var bad: [String] = []
        for name in ["base12_j2k.dcm", "base16_jpegls.dcm", "base8_rle.dcm"] {
            let data = try Data(contentsOf: syntaxes.appendingPathComponent(name))
            try data.prefix(data.count / 2).write(to: inputs.appendingPathComponent("cut_" + name))
            bad.append("cut_" + name)
        }
        var noise = [UInt8](repeating: 0, count: 128) + Array("DICM".utf8)
        var state: UInt32 = 12345
        for _ in 0..<4000 { state = state &* 1_664_525 &+ 1_013_904_223; noise.append(UInt8(truncatingIfNeeded: state >> 24)) }
        try Data(noise).write(to: inputs.appendingPathComponent("noise.dcm"))
        bad.append("noise.dcm")
        let out = dir.appendingPathComponent("ds")
        let result = try FluoroBinary.run(["pack", "--out", out.path, inputs.path])
        #expect(result.status == 3, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("\(good.count) sequence(s)"), "\(result.stdout)")
        #expect(result.stdout.contains("\(bad.count) input(s) could not be read"))
        let lines = result.stdout.split(separator: "\n")
        for name in bad { #expect(lines.filter { $0.contains(name) }.count == 1, "\(name) in \(result.stdout)") }
        #expect(try ShardDataset(directory: out).sequenceCount == good.count)
    }

    /// A file that kills the decoding process (a codec crash, injected with FLUORO_DICOM_CRASH_ON)
    /// gets its one-line reason, and the files after it in the same pack are packed by a new one.
    @Test func aFileThatCrashesTheDecoderIsSkippedAndTheNextOnesPack() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let inputs = dir.appendingPathComponent("in")
        try FileManager.default.createDirectory(at: inputs, withIntermediateDirectories: true)
        let marker = "FLUORO-TEST-CRASH-\(UUID().uuidString)"
        let balloon = try Data(contentsOf: Self.dicomDirectory.appendingPathComponent("xa_balloon_17f.dcm"))
        try (balloon + Data(marker.utf8)).write(to: inputs.appendingPathComponent("a_crash.dcm"))  // listed first
        try balloon.write(to: inputs.appendingPathComponent("b_balloon.dcm"))
        try FileManager.default.copyItem(at: Self.dicomDirectory.appendingPathComponent("xa_rca_96f.dcm"),
                                         to: inputs.appendingPathComponent("c_rca.dcm"))
        var environment = FluoroBinary.cleanEnvironment
        environment["FLUORO_DICOM_CRASH_ON"] = marker
        let out = dir.appendingPathComponent("ds")
        let result = try FluoroBinary.run(["pack", "--out", out.path, inputs.path], environment: environment)
        #expect(result.status == 3, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("2 sequence(s), 113 frames"), "\(result.stdout)")
        let reasons = result.stdout.split(separator: "\n").filter { $0.contains("a_crash.dcm") }
        #expect(reasons.count == 1 && reasons[0].contains("a_crash.dcm: GDCM crashed on this file (signal 11"), "\(result.stdout)")
        #expect(try ShardDataset(directory: out).sequenceCount == 2)
    }

    /// A `fluoro-dicom-decoder` beside `fluoro` that cannot serve (from another build, which exits
    /// with 86, or broken) is given up for `fluoro` itself, and the pack succeeds.
    @Test func aDecoderBinaryThatCannotServeFallsBackToFluoroItself() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bin = dir.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        let fluoro = bin.appendingPathComponent("fluoro")
        do { try FileManager.default.linkItem(at: FluoroBinary.url, to: fluoro) } catch {
            try FileManager.default.copyItem(at: FluoroBinary.url, to: fluoro)
        }
        let decoder = bin.appendingPathComponent("fluoro-dicom-decoder")
        for exit in [86, 1] {
            try? FileManager.default.removeItem(at: decoder)
            try "#!/bin/sh\nexit \(exit)\n".write(to: decoder, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: decoder.path)
            let out = dir.appendingPathComponent("ds\(exit)")
            let result = try FluoroBinary.run(["pack", "--out", out.path, Self.dicomDirectory.appendingPathComponent("xa_balloon_17f.dcm").path],
                                              executable: fluoro.path)
            #expect(result.status == 0, "exit \(exit): \(result.stdout) \(result.stderr)")
            #expect(result.stdout.contains("1 sequence(s), 17 frames"), "exit \(exit): \(result.stdout)")
        }
    }
}
