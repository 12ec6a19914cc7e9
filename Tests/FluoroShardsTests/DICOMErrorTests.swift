import Foundation
import Testing
@testable import FluoroShards

/// Bad input: unsupported transfer syntaxes, truncation, garbage and broken structure give clear
/// `IngestError`s, never a crash.
@Suite struct DICOMErrorTests {
    static func smallImage(_ syntax: String = DICOMTestWriter.explicitLittle) -> Data {
        SyntheticDICOM.image(transferSyntax: syntax, rows: 4, columns: 4, frames: 2) {
            $0.nativePixels((0..<32).map { UInt8($0) }, vr: "OB")
        }
    }

    /// Syntaxes GDCM 3.0 has no decoder for (video, High-Throughput JPEG 2000, made-up UIDs) are
    /// refused with the UID, a name and what to do.
    @Test(arguments: [
        ("1.2.840.10008.1.2.4.100", "MPEG2"),
        ("1.2.840.10008.1.2.4.102", "H.264"),
        ("1.2.840.10008.1.2.4.201", "High-Throughput JPEG 2000"),
        ("1.2.3.999", "1.2.3.999"),
    ])
    func unsupportedTransferSyntaxNamesUIDAndWhatToDo(_ uid: String, _ name: String) throws {
        let file = SyntheticDICOM.image(transferSyntax: uid, rows: 4, columns: 4, frames: 1) {
            $0.encapsulatedPixels(offsets: [], fragments: [[UInt8](repeating: 7, count: 64)])
        }
        let error = try #require(throws: IngestError.self) { try ClinicalIngest.read(file, file: "x.dcm") }
        guard case let .unsupportedTransferSyntax(gotUID, gotName, gotFile, hint) = error else {
            Issue.record("wrong error \(error)")
            return
        }
        #expect(gotUID == uid && gotFile == "x.dcm")
        #expect(gotName.contains(name))
        #expect(hint.contains("export the run"))
        #expect(error.description.contains(uid) && error.description.contains("x.dcm"))
    }

    @Test func truncatedSyntheticFileThrowsAtEveryCut() throws {
        let data = Self.smallImage()
        for cut in 0..<data.count {
            #expect(throws: IngestError.self, "cut at \(cut)") { _ = try ClinicalIngest.read(data.prefix(cut), file: "cut.dcm") }
        }
        #expect(try ClinicalIngest.read(data, file: "whole.dcm").info.frameCount == 2)
    }

    @Test func truncationErrorSaysSo() throws {
        let data = Self.smallImage()
        let error = try #require(throws: IngestError.self) { try ClinicalIngest.read(data.prefix(data.count - 3), file: "t.dcm") }
        #expect(error.file == "t.dcm")
        #expect(error.description.contains("truncated") || error.description.contains("need 32"), "\(error)")
    }

    @Test func garbageIsNotRecognized() throws {
        var rng = SystemRandomNumberGenerator()
        let garbage = Data((0..<5000).map { _ in UInt8.random(in: 0...255, using: &rng) })
        let error = try #require(throws: IngestError.self) { try ClinicalIngest.read(garbage, file: "noise.bin") }
        #expect(error == .unrecognizedFormat(file: "noise.bin"))
        #expect(error.description.contains("DICM") && error.description.contains("noise.bin"))
        #expect(throws: IngestError.self) { try ClinicalIngest.read(Data(), file: "empty") }
        // Also from a real file on disk, found by content.
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fluoro-garbage-\(UUID().uuidString).dcm")
        try garbage.write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(throws: IngestError.unrecognizedFormat(file: url.path)) { try ClinicalIngest.read(url) }
        #expect(throws: IngestError.self) { try ClinicalIngest.read(url.appendingPathExtension("missing")) }
    }

    @Test func garbageAfterMagicIsAnErrorNotACrash() throws {
        var rng = SplitMixForTests(seed: 7)
        for trial in 0..<200 {
            var bytes = [UInt8](repeating: 0, count: 128) + Array("DICM".utf8)
            bytes += (0..<(trial * 7 % 600)).map { _ in rng.byte() }
            #expect(throws: IngestError.self) { try ClinicalIngest.read(Data(bytes), file: "g\(trial).dcm") }
        }
    }

    /// Random byte flips in a valid file: each read either succeeds with a valid sequence or throws an IngestError.
    @Test func mutatedFilesNeverCrash() throws {
        var rng = SplitMixForTests(seed: 42)
        for syntax in [DICOMTestWriter.explicitLittle, DICOMTestWriter.implicitLittle] {
            let original = [UInt8](Self.smallImage(syntax))
            for _ in 0..<300 {
                var bytes = original
                for _ in 0..<3 { bytes[132 + Int(rng.next() % UInt64(bytes.count - 132))] = rng.byte() }
                do {
                    let s = try ClinicalIngest.read(Data(bytes), file: "m.dcm", options: IngestOptions(allowAnyModality: true))
                    #expect(s.validationProblem() == nil)
                } catch is IngestError {
                } catch {
                    Issue.record("unexpected error type \(error)")
                }
            }
        }
    }

    @Test func unterminatedSequenceIsTruncation() throws {
        var w = DICOMTestWriter(transferSyntax: DICOMTestWriter.explicitLittle)
        w.string(0x0008, 0x0060, vr: "CS", "XA")
        w.raw(w.header(0x0008, 0x1140, vr: "SQ", length: 0xFFFF_FFFF))
        w.raw(DICOMTestWriter.le16(0xFFFE) + DICOMTestWriter.le16(0xE000) + DICOMTestWriter.le32(0xFFFF_FFFF))
        w.string(0x0008, 0x1150, vr: "UI", "1.2.3")
        let error = try #require(throws: IngestError.self) { try ClinicalIngest.read(w.fileBytes(), file: "open.dcm") }
        #expect(error.file == "open.dcm")
    }

    @Test func absurdNestingIsRefused() throws {
        var w = DICOMTestWriter(transferSyntax: DICOMTestWriter.implicitLittle)
        for _ in 0..<100 {
            w.raw(w.header(0x0008, 0x1140, vr: "SQ", length: 0xFFFF_FFFF))
            w.raw(DICOMTestWriter.le16(0xFFFE) + DICOMTestWriter.le16(0xE000) + DICOMTestWriter.le32(0xFFFF_FFFF))
        }
        let error = try #require(throws: IngestError.self) { try ClinicalIngest.read(w.fileBytes(), file: "deep.dcm") }
        #expect(error.file == "deep.dcm")
    }

    @Test func missingPixelDataAndRowsAreNamed() throws {
        let noPixels = SyntheticDICOM.image(rows: 2, columns: 2, frames: 1) { _ in }
        #expect(throws: IngestError.missingAttribute(file: "np.dcm", tag: "(7FE0,0010)", name: "PixelData")) {
            try ClinicalIngest.read(noPixels, file: "np.dcm")
        }
        var w = DICOMTestWriter(transferSyntax: DICOMTestWriter.explicitLittle)
        w.string(0x0008, 0x0060, vr: "CS", "XA")
        w.us(0x0028, 0x0011, 2)
        w.us(0x0028, 0x0100, 8)
        w.nativePixels([1, 2, 3, 4], vr: "OB")
        #expect(throws: IngestError.missingAttribute(file: "nr.dcm", tag: "(0028,0010)", name: "Rows")) {
            try ClinicalIngest.read(w.fileBytes(), file: "nr.dcm")
        }
    }
}

/// A tiny deterministic generator for fuzz-style tests.
struct SplitMixForTests {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func byte() -> UInt8 { UInt8(truncatingIfNeeded: next()) }
}
