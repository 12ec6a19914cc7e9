import Foundation
import Testing
@testable import FluoroShards

/// `.npy` files written by the test (the format numpy.save writes), read back by content.
@Suite struct NumPyIngestTests {
    /// A `.npy` file: magic, version, padded header dict, data.
    static func npy(descr: String, shape: [Int], data: [UInt8], fortran: Bool = false, version: UInt8 = 1) -> Data {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': \(fortran ? "True" : "False"), 'shape': \(shapeText), }"
        let prefix = version == 1 ? 10 : 12
        while (prefix + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [version, 0]
        let n = header.utf8.count
        out += version == 1 ? DICOMTestWriter.le16(UInt16(n)) : DICOMTestWriter.le32(UInt32(n))
        return Data(out + Array(header.utf8) + data)
    }

    static func floats(_ values: [Float]) -> [UInt8] { values.flatMap { DICOMTestWriter.le32($0.bitPattern) } }

    @Test func uint8RoundTrips() throws {
        let values = (0..<(2 * 3 * 4)).map { UInt8($0 * 10) }
        let s = try ClinicalIngest.read(Self.npy(descr: "|u1", shape: [2, 3, 4], data: values), file: "a.npy")
        #expect(s.info.frameCount == 2 && s.info.height == 3 && s.info.width == 4)
        #expect(s.info.pixelFormat == .uint8 && s.info.bitsStored == 8)
        #expect([UInt8](s.pixels) == values)
        #expect(s.validationProblem() == nil)
        #expect(s.info.id.hasPrefix("npy-") && s.info.source == "npy |u1")
    }

    @Test(arguments: [UInt8(1), 2, 3]) func uint16RoundTripsInEveryVersion(_ version: UInt8) throws {
        let values: [UInt16] = [0, 1, 256, 4095, 65535, 30000]
        let s = try ClinicalIngest.read(Self.npy(descr: "<u2", shape: [1, 2, 3], data: values.flatMap(DICOMTestWriter.le16),
                                                 version: version), file: "b.npy")
        #expect(s.info.pixelFormat == .uint16 && s.info.bitsStored == 16 && s.info.frameCount == 1)
        #expect(SyntheticDICOMIngestTests.values16(s.pixels) == values)
    }

    @Test func float32InUnitRangeBecomesUInt16() throws {
        // [H, W] is one frame.
        let s = try ClinicalIngest.read(Self.npy(descr: "<f4", shape: [2, 2], data: Self.floats([0, 1, 0.5, 0.25])), file: "c.npy")
        #expect(s.info.frameCount == 1 && s.info.pixelFormat == .uint16 && s.info.bitsStored == 16)
        #expect(SyntheticDICOMIngestTests.values16(s.pixels) == [0, 65535, 32768, 16384])
    }

    @Test(arguments: [Float.nan, -0.01, 1.5, Float.infinity])
    func floatOutsideUnitRangeIsRefused(_ bad: Float) throws {
        let data = Self.npy(descr: "<f4", shape: [1, 2, 2], data: Self.floats([0.1, 0.2, bad, 0.3]))
        let error = try #require(throws: IngestError.self) { try ClinicalIngest.read(data, file: "f.npy") }
        guard case let .valueOutOfRange(file, index, _) = error else { Issue.record("wrong error \(error)"); return }
        #expect(file == "f.npy" && index == 2)
        #expect(error.description.contains("[0, 1]"))
    }

    @Test(arguments: [
        ("<u2", true, [1, 2, 2], "Fortran"),
        (">u2", false, [1, 2, 2], "big-endian"),
        ("<i4", false, [1, 2, 2], "not uint8, uint16 or float32"),
        ("<f8", false, [1, 2, 2], "not uint8, uint16 or float32"),
        ("|u1", false, [2, 1, 2, 2], "is not [T, H, W]"),
        ("|u1", false, [4], "is not [T, H, W]"),
        ("|u1", false, [0, 2, 2], "empty"),
    ])
    func unsupportedArraysAreRefusedClearly(_ descr: String, _ fortran: Bool, _ shape: [Int], _ phrase: String) throws {
        let data = Self.npy(descr: descr, shape: shape, data: [UInt8](repeating: 0, count: 64), fortran: fortran)
        let error = try #require(throws: IngestError.self) { try ClinicalIngest.read(data, file: "u.npy") }
        guard case .unsupportedNumPy = error else { Issue.record("wrong error \(error)"); return }
        #expect(error.description.contains(phrase))
        #expect(error.description.contains("u.npy"))
    }

    @Test func truncatedAndMalformedNumPyThrow() throws {
        let whole = Self.npy(descr: "<u2", shape: [2, 4, 4], data: [UInt8](repeating: 7, count: 64))
        for cut in 0..<whole.count {
            #expect(throws: IngestError.self, "cut at \(cut)") { _ = try ClinicalIngest.read(whole.prefix(cut), file: "t.npy") }
        }
        #expect(try ClinicalIngest.read(whole, file: "t.npy").info.frameCount == 2)
        var broken = [UInt8](whole)
        broken[12] = UInt8(ascii: "[")  // the dict's opening brace
        #expect(throws: IngestError.self) { try ClinicalIngest.read(Data(broken), file: "m.npy") }
    }

    @Test func headerParserReadsNumPyLiterals() throws {
        var p = PythonLiteralParser(bytes: Array("{'descr': '<u2', \"fortran_order\": False, 'shape': (96, 512, 512L), 'x': [None, True]}".utf8))
        let value = try p.parseValue()
        #expect(value == .dict(["descr": .string("<u2"), "fortran_order": .bool(false),
                                "shape": .tuple([.int(96), .int(512), .int(512)]), "x": .tuple([.none, .bool(true)])]))
    }

    /// Formats are found by content: a NumPy file named .dcm and a DICOM file named .npy both read,
    /// and `candidates` lists them (recursively, skipping hidden files and non-image files), sorted.
    @Test func detectionIsByContentNotExtension() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fluoro-ingest-\(UUID().uuidString)")
        let sub = dir.appendingPathComponent("b/nested"), hidden = dir.appendingPathComponent(".cache")
        for d in [sub, hidden] { try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true) }
        defer { try? FileManager.default.removeItem(at: dir) }
        let array = Self.npy(descr: "|u1", shape: [1, 2, 2], data: [1, 2, 3, 4])
        let dicom = SyntheticDICOM.image(rows: 2, columns: 2, frames: 1) { $0.nativePixels([5, 6, 7, 8], vr: "OB") }
        try array.write(to: dir.appendingPathComponent("a-array.dcm"))
        try dicom.write(to: sub.appendingPathComponent("c-image.npy"))
        try dicom.write(to: sub.appendingPathComponent("IM0001"))
        try dicom.write(to: dir.appendingPathComponent(".hidden.dcm"))
        try dicom.write(to: hidden.appendingPathComponent("x.dcm"))
        try Data("not an image".utf8).write(to: dir.appendingPathComponent("README.md"))
        try FileManager.default.createSymbolicLink(at: dir.appendingPathComponent("b/link.dcm"),
                                                   withDestinationURL: sub.appendingPathComponent("IM0001"))
        let found = try ClinicalIngest.candidates(in: dir)
        #expect(found.map { $0.path.replacingOccurrences(of: dir.path, with: "") }
                == ["/a-array.dcm", "/b/link.dcm", "/b/nested/IM0001", "/b/nested/c-image.npy"])
        #expect([UInt8](try ClinicalIngest.read(found[0]).pixels) == [1, 2, 3, 4])
        #expect([UInt8](try ClinicalIngest.read(found[1]).pixels) == [5, 6, 7, 8])
        #expect([UInt8](try ClinicalIngest.read(found[3]).pixels) == [5, 6, 7, 8])
        #expect(throws: IngestError.self) { try ClinicalIngest.candidates(in: dir.appendingPathComponent("README.md")) }
    }
}

@Suite struct NumPyHostileShapeTests {
    /// A header promising 2^64 pixels must be an error, not an arithmetic trap.
    @Test func overflowingShapeIsAnError() throws {
        let data = NumPyIngestTests.npy(descr: "|u1", shape: [1, 1 << 32, 1 << 32], data: [0, 1, 2])
        #expect(throws: IngestError.self) { try ClinicalIngest.read(data, file: "huge.npy") }
        let wide = NumPyIngestTests.npy(descr: "<f4", shape: [1 << 40, 1 << 20, 4], data: [0, 1, 2])
        #expect(throws: IngestError.self) { try ClinicalIngest.read(wide, file: "wide.npy") }
    }
}
