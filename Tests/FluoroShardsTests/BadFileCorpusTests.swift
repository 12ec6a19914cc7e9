import Foundation
import Testing
@testable import FluoroShards

/// A directory of broken and odd files as an archive export holds them: truncated, wrong Pixel
/// Data length, broken fragments, colour, non-image SOP classes, a DICOMDIR and fuzzed bytes of
/// every kind of fixture. Each file either reads into a valid sequence or gets an `IngestError`
/// whose one-line description names the file; nothing crashes the process.
@Suite struct BadFileCorpusTests {
    static func scratch(_ label: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fluoro-corpus-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func fixture(_ name: String) throws -> Data {
        try Data(contentsOf: syntaxFixtureDirectory().appendingPathComponent(name))
    }

    /// Offset of the first fragment's bytes (after the Basic Offset Table item) in an encapsulated file.
    static func firstFragment(_ data: Data) -> Int? {
        let bytes = [UInt8](data)
        let pixelTag: [UInt8] = [0xE0, 0x7F, 0x10, 0x00, 0x4F, 0x42]  // (7FE0,0010) OB
        guard let start = (0..<(bytes.count - 6)).last(where: { Array(bytes[$0..<($0 + 6)]) == pixelTag }) else { return nil }
        let tableLength = Int(bytes[start + 16]) | Int(bytes[start + 17]) << 8
        return start + 12 + 8 + tableLength + 8
    }

    /// The files that must fail, each with a word its message must contain.
    static func writeCorpus(to dir: URL) throws -> [String: String] {
        var expected: [String: String] = [:]
        func write(_ data: Data, _ name: String, expect word: String? = nil) throws {
            try data.write(to: dir.appendingPathComponent(name))
            if let word { expected[name] = word }
        }
        // Good files, to show they still pack beside the bad ones.
        for name in ["base8.dcm", "base12_jpeg_lossless.dcm", "base16_j2k.dcm", "enhanced8_jpeg_lossless.dcm"] {
            try write(try fixture(name), "good_" + name)
        }
        // Truncated: in the dataset, in native pixels, in fragments.
        let real = try Data(contentsOf: dicomFixtureDirectory().appendingPathComponent("xa_balloon_17f.dcm"))
        for cut in [300, 3000, real.count / 2, real.count - 5] { try write(real.prefix(cut), "cut_real_\(cut).dcm", expect: "") }
        let base8 = try fixture("base8.dcm")
        try write(base8.prefix(base8.count - 100), "cut_native.dcm", expect: "")
        for name in ["base12_jpeg_lossless.dcm", "base16_rle.dcm", "base8_j2k.dcm", "base12_jpegls.dcm"] {
            let d = try fixture(name)
            try write(d.prefix(d.count * 2 / 3), "cut_" + name, expect: "")
        }
        // Wrong Pixel Data length: short, and whole frames more than NumberOfFrames.
        try write(SyntheticDICOM.image(rows: 4, columns: 4, frames: 2) { $0.nativePixels([UInt8](repeating: 1, count: 20), vr: "OB") },
                  "short_pixels.dcm", expect: "need 32")
        try write(SyntheticDICOM.image(rows: 2, columns: 2, frames: nil) { $0.nativePixels([UInt8](repeating: 7, count: 12), vr: "OB") },
                  "extra_frames.dcm", expect: "NumberOfFrames")
        // Broken fragments: zeroed compressed bytes, a broken item tag, a frame missing.
        for name in ["base8_jpeg_lossless.dcm", "base12_j2k.dcm", "base16_jpegls.dcm", "base8_rle.dcm", "base8_jpeg_baseline.dcm"] {
            var d = try fixture(name)
            let start = try #require(firstFragment(d), "\(name)")
            var zeroed = d
            zeroed.replaceSubrange((start + 2)..<min(start + 400, d.count - 20), with: [UInt8](repeating: 0, count: min(398, d.count - 22 - start)))
            try write(zeroed, "zeroed_fragment_" + name)  // may decode to garbage-free zeros or fail; must not crash
            d[start - 8] = 0x12  // the first fragment's item tag
            try write(d, "bad_item_tag_" + name, expect: "")
        }
        // Colour (3 samples per pixel) and palette colour are refused with the reason.
        var rgb = DICOMTestWriter(transferSyntax: DICOMTestWriter.explicitLittle)
        rgb.string(0x0008, 0x0060, vr: "CS", "XA")
        rgb.us(0x0028, 0x0002, 3)
        rgb.string(0x0028, 0x0004, vr: "CS", "RGB")
        rgb.us(0x0028, 0x0006, 0)
        rgb.us(0x0028, 0x0010, 2)
        rgb.us(0x0028, 0x0011, 2)
        rgb.us(0x0028, 0x0100, 8)
        rgb.us(0x0028, 0x0101, 8)
        rgb.us(0x0028, 0x0102, 7)
        rgb.us(0x0028, 0x0103, 0)
        rgb.nativePixels([UInt8](repeating: 9, count: 12), vr: "OB")
        try write(rgb.fileBytes(), "colour_rgb.dcm", expect: "PhotometricInterpretation is RGB")
        // Non-image SOP classes: a structured report (refused as SR modality, or as no image when forced), a DICOMDIR.
        var sr = DICOMTestWriter(transferSyntax: DICOMTestWriter.explicitLittle)
        sr.string(0x0008, 0x0016, vr: "UI", "1.2.840.10008.5.1.4.1.1.88.11")
        sr.string(0x0008, 0x0018, vr: "UI", "1.2.3.4.88")
        sr.string(0x0008, 0x0060, vr: "CS", "SR")
        sr.string(0x0040, 0xA040, vr: "CS", "CONTAINER")
        try write(sr.fileBytes(sopInstanceUID: "1.2.3.4.88", sopClassUID: "1.2.840.10008.5.1.4.1.1.88.11"), "report_sr.dcm", expect: "SR")
        var dicomdir = DICOMTestWriter(transferSyntax: DICOMTestWriter.explicitLittle)
        dicomdir.string(0x0004, 0x1130, vr: "CS", "FLUORO")
        var record = DICOMTestWriter(transferSyntax: DICOMTestWriter.explicitLittle)
        record.string(0x0004, 0x1430, vr: "CS", "PATIENT")
        dicomdir.sequence(0x0004, 0x1220, items: [record.body])
        try write(dicomdir.fileBytes(sopInstanceUID: "1.2.3.4.99", sopClassUID: "1.2.840.10008.1.3.10"), "DICOMDIR", expect: "")
        // Garbage after the magic.
        var rng = SplitMixForTests(seed: 2026)
        try write(Data([UInt8](repeating: 0, count: 128) + Array("DICM".utf8) + (0..<3000).map { _ in rng.byte() }), "noise.dcm", expect: "")
        // Fuzzed bytes of every kind of file: flips anywhere after the preamble, and random cuts.
        let kinds = ["base8.dcm", "base12_implicit.dcm", "base16_deflated.dcm", "base8_jpeg_baseline.dcm", "base12_jpeg_lossless.dcm",
                     "base12_jpeg_extended.dcm", "base16_jpegls.dcm", "base8_jpegls_near2.dcm", "base12_j2k.dcm", "base8_j2k_lossy.dcm",
                     "base16_rle.dcm", "enhanced8.dcm"]
        for kind in kinds {
            let original = [UInt8](try fixture(kind))
            for k in 0..<12 {
                var bytes = original
                let flips = 1 + Int(rng.next() % 12)
                for _ in 0..<flips { bytes[132 + Int(rng.next() % UInt64(bytes.count - 132))] = rng.byte() }
                if k % 4 == 3 { bytes = Array(bytes.prefix(132 + Int(rng.next() % UInt64(bytes.count - 132)))) }
                try write(Data(bytes), "fuzz_\(k)_" + kind)
            }
        }
        return expected
    }

    @Test func everyFileReadsOrGetsAOneLineReason() throws {
        let dir = try Self.scratch("bad")
        defer { try? FileManager.default.removeItem(at: dir) }
        let expected = try Self.writeCorpus(to: dir)
        let files = try ClinicalIngest.candidates(in: dir)
        #expect(files.count > 150)
        var failures: [String: String] = [:]
        var packed: [String] = []
        for url in files {
            do {
                let s = try ClinicalIngest.read(url)
                #expect(s.validationProblem() == nil, "\(url.lastPathComponent)")
                packed.append(url.lastPathComponent)
            } catch let error as IngestError {
                let line = error.description
                #expect(error.file == url.path && line.contains(url.path), "\(line)")
                #expect(!line.contains("\n"), "\(line)")
                failures[url.lastPathComponent] = line
            } catch {
                Issue.record("\(url.lastPathComponent): not an IngestError: \(error)")
            }
        }
        for name in ["good_base8.dcm", "good_base12_jpeg_lossless.dcm", "good_base16_j2k.dcm", "good_enhanced8_jpeg_lossless.dcm"] {
            #expect(packed.contains(name), "\(name): \(failures[name] ?? "")")
        }
        for (name, word) in expected {
            let line = try #require(failures[name], "\(name) should fail")
            #expect(word.isEmpty || line.contains(word), "\(line)")
        }
        #expect(failures["DICOMDIR"]?.contains("DICOMDIR") == true, "\(failures["DICOMDIR"] ?? "")")
        // The forced read of the report says it is not an image.
        let forced = try #require(throws: IngestError.self) {
            try ClinicalIngest.read(dir.appendingPathComponent("report_sr.dcm"), options: IngestOptions(allowAnyModality: true))
        }
        #expect(forced.description.contains("not an image"), "\(forced)")
        let crashes = failures.values.filter { $0.contains("GDCM crashed") || $0.contains("GDCM aborted") || $0.contains("out of memory") }
        print("corpus: \(files.count) files, \(packed.count) read, \(failures.count) refused, \(crashes.count) GDCM aborts, crashes or runaway allocations contained")
    }

    /// Thousands of files in one directory: listed, read one by one, the bad ones named.
    @Test func aDirectoryOfThousands() throws {
        let dir = try Self.scratch("many")
        defer { try? FileManager.default.removeItem(at: dir) }
        let count = 2000
        for i in 0..<count {
            let sub = dir.appendingPathComponent(String(format: "series%02d", i % 20))
            if i < 20 { try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true) }
            var data = SyntheticDICOM.image(rows: 4, columns: 4, frames: 2, sopInstanceUID: "1.2.826.0.1.7.\(i)") {
                $0.nativePixels((0..<32).map { UInt8(($0 + i) & 0xFF) }, vr: "OB")
            }
            if i % 100 == 99 { data = data.prefix(data.count - 7) }  // 20 broken ones
            try data.write(to: sub.appendingPathComponent("IM\(i)"))
        }
        let files = try ClinicalIngest.candidates(in: dir)
        #expect(files.count == count)
        var ok = 0, bad = 0
        let started = Date()
        for url in files {
            do { _ = try ClinicalIngest.read(url); ok += 1 } catch let error as IngestError {
                #expect(error.description.contains(url.lastPathComponent))
                bad += 1
            }
        }
        #expect(ok == count - 20 && bad == 20)
        print("thousands: \(count) files in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
    }
}
