import Foundation
import Testing
@testable import FluoroShards

/// Native (uncompressed) DICOM written by `DICOMTestWriter`, in both little-endian encodings.
@Suite struct SyntheticDICOMIngestTests {
    static let encodings = [DICOMTestWriter.explicitLittle, DICOMTestWriter.implicitLittle]

    /// UInt16 values as little-endian bytes.
    static func bytes16(_ values: [UInt16]) -> [UInt8] { values.flatMap(DICOMTestWriter.le16) }

    /// Little-endian UInt16 pixels of a sequence.
    static func values16(_ data: Data) -> [UInt16] {
        stride(from: 0, to: data.count, by: 2).map { UInt16(data[$0]) | UInt16(data[$0 + 1]) << 8 }
    }

    @Test(arguments: encodings) func multiFrame8BitRoundTrips(_ syntax: String) throws {
        let (t, h, w) = (3, 4, 5)
        let pixels = (0..<(t * h * w)).map { UInt8(($0 * 37) & 0xFF) }
        let file = SyntheticDICOM.image(transferSyntax: syntax, rows: h, columns: w, frames: t) { $0.nativePixels(pixels, vr: "OB") }
        let s = try ClinicalIngest.read(file, file: "multi.dcm")
        #expect(s.info.frameCount == t && s.info.height == h && s.info.width == w)
        #expect(s.info.pixelFormat == .uint8 && s.info.bitsStored == 8)
        #expect([UInt8](s.pixels) == pixels)
        #expect(s.info.frameTimeMs == 40)
        #expect(s.info.pixelSpacingMm == [0.2 / 1.25, 0.25 / 1.25])  // detector spacing / magnification
        #expect(s.info.modality == "XA")
        #expect(s.info.source.contains(syntax))
    }

    /// ImagerPixelSpacing is at the detector: without a magnification the patient-plane spacing is unknown.
    @Test(arguments: encodings) func detectorSpacingNeedsAMagnification(_ syntax: String) throws {
        let pixels = [UInt8](repeating: 9, count: 4)
        let bare = SyntheticDICOM.image(transferSyntax: syntax, rows: 2, columns: 2, frames: 1, magnification: nil) { $0.nativePixels(pixels, vr: "OB") }
        #expect(try ClinicalIngest.read(bare, file: "bare.dcm").info.pixelSpacingMm == nil)
        let geometry = SyntheticDICOM.image(transferSyntax: syntax, rows: 2, columns: 2, frames: 1, magnification: nil,
                                            distances: ("1000", "800")) { $0.nativePixels(pixels, vr: "OB") }
        let spacing = try #require(try ClinicalIngest.read(geometry, file: "geometry.dcm").info.pixelSpacingMm)
        #expect(abs(spacing[0] - 0.16) < 1e-12 && abs(spacing[1] - 0.2) < 1e-12)
    }

    @Test(arguments: encodings) func singleFrame16BitMasksToBitsStored(_ syntax: String) throws {
        // 12 bits stored, high bit 11: the top nibble holds overlay garbage that must be masked off.
        let stored: [UInt16] = [0, 1, 2047, 4095, 1234, 4000]
        let raw = stored.enumerated().map { $0.element | UInt16(($0.offset % 16) << 12) }
        let file = SyntheticDICOM.image(transferSyntax: syntax, rows: 2, columns: 3, frames: nil, bitsAllocated: 16,
                                        bitsStored: 12) { $0.nativePixels(Self.bytes16(raw)) }
        let s = try ClinicalIngest.read(file, file: "single16.dcm")
        #expect(s.info.frameCount == 1 && s.info.pixelFormat == .uint16 && s.info.bitsStored == 12)
        #expect(Self.values16(s.pixels) == stored)
    }

    /// Explicit VR Big Endian (retired, still in old archives): binary attributes and 16-bit
    /// pixels are byte-swapped by GDCM; spacing and timing text is the same.
    @Test func explicitBigEndianIsRead() throws {
        let stored: [UInt16] = [0, 1, 2047, 4095, 1234, 4000]
        let file = SyntheticDICOM.image(transferSyntax: DICOMTestWriter.explicitBig, rows: 2, columns: 3, frames: 1,
                                        bitsAllocated: 16, bitsStored: 12) {
            $0.nativePixels(stored.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] })
        }
        let s = try ClinicalIngest.read(file, file: "be16.dcm")
        #expect(s.info.height == 2 && s.info.width == 3 && s.info.bitsStored == 12 && s.info.pixelFormat == .uint16)
        #expect(Self.values16(s.pixels) == stored)
        #expect(s.info.frameTimeMs == 40 && s.info.source.contains("1.2.840.10008.1.2.2"))
        let pixels8: [UInt8] = [3, 1, 4, 1, 5, 9]
        let file8 = SyntheticDICOM.image(transferSyntax: DICOMTestWriter.explicitBig, rows: 2, columns: 3, frames: 1) {
            $0.nativePixels(pixels8, vr: "OB")
        }
        #expect([UInt8](try ClinicalIngest.read(file8, file: "be8.dcm").pixels) == pixels8)
    }

    @Test func highBitAboveBitsStoredShiftsDown() throws {
        // 12 bits stored in bits 4...15 (HighBit 15).
        let stored: [UInt16] = [0, 5, 4095, 2048]
        let file = SyntheticDICOM.image(rows: 2, columns: 2, frames: 1, bitsAllocated: 16, bitsStored: 12, highBit: 15) {
            $0.nativePixels(Self.bytes16(stored.map { $0 << 4 | 0x7 }))
        }
        #expect(Self.values16(try ClinicalIngest.read(file, file: "shifted.dcm").pixels) == stored)
    }

    @Test(arguments: encodings) func monochrome1IsInverted(_ syntax: String) throws {
        let pixels: [UInt8] = [0, 10, 128, 255]
        let file8 = SyntheticDICOM.image(transferSyntax: syntax, rows: 2, columns: 2, frames: 1, photometric: "MONOCHROME1") {
            $0.nativePixels(pixels, vr: "OB")
        }
        #expect([UInt8](try ClinicalIngest.read(file8, file: "m1.dcm").pixels) == [255, 245, 127, 0])
        // 10 bits stored: inverted within 0...1023, not 0...65535.
        let file16 = SyntheticDICOM.image(transferSyntax: syntax, rows: 1, columns: 3, frames: 1, bitsAllocated: 16,
                                          bitsStored: 10, photometric: "MONOCHROME1") { $0.nativePixels(Self.bytes16([0, 1000, 1023])) }
        let s = try ClinicalIngest.read(file16, file: "m1-16.dcm")
        #expect(s.info.bitsStored == 10)
        #expect(Self.values16(s.pixels) == [1023, 23, 0])
    }

    @Test func signedPixelsShiftToUnsigned() throws {
        let signed: [Int16] = [-32768, -1, 0, 1, 32767, -100]
        let file = SyntheticDICOM.image(rows: 2, columns: 3, frames: 1, bitsAllocated: 16, signed: true) {
            $0.nativePixels(Self.bytes16(signed.map { UInt16(bitPattern: $0) }))
        }
        let values = Self.values16(try ClinicalIngest.read(file, file: "signed.dcm").pixels)
        #expect(values == signed.map { UInt16(Int($0) + 32768) })
        // 8-bit signed too: -128 -> 0, 127 -> 255.
        let file8 = SyntheticDICOM.image(rows: 1, columns: 3, frames: 1, signed: true) { $0.nativePixels([0x80, 0xFF, 0x7F], vr: "OB") }
        #expect([UInt8](try ClinicalIngest.read(file8, file: "signed8.dcm").pixels) == [0, 127, 255])
    }

    @Test func frameTimeFallsBackToVectorThenCineRate() throws {
        let vector = SyntheticDICOM.image(rows: 1, columns: 1, frames: 4, frameTime: nil) {
            $0.string(0x0018, 0x1065, vr: "DS", "0\\40\\40\\41")
            $0.nativePixels([1, 2, 3, 4], vr: "OB")
        }
        let t = try #require(try ClinicalIngest.read(vector, file: "v.dcm").info.frameTimeMs)
        #expect(abs(t - 121.0 / 3) < 1e-9)
        let cine = SyntheticDICOM.image(rows: 1, columns: 1, frames: 2, frameTime: nil) {
            $0.string(0x0018, 0x0040, vr: "IS", "25")
            $0.nativePixels([1, 2], vr: "OB")
        }
        #expect(try ClinicalIngest.read(cine, file: "c.dcm").info.frameTimeMs == 40)
        let none = SyntheticDICOM.image(rows: 1, columns: 1, frames: 1, frameTime: nil) { $0.nativePixels([1, 2], vr: "OB") }
        #expect(try ClinicalIngest.read(none, file: "n.dcm").info.frameTimeMs == nil)
    }

    /// Explicit VR files sometimes carry standard attributes as UN (after a round trip through a
    /// tool that lost the VR): they are read by their dictionary VR.
    @Test func unknownVRAttributesAreReadByDictionaryVR() throws {
        var w = DICOMTestWriter(transferSyntax: DICOMTestWriter.explicitLittle)
        w.string(0x0008, 0x0060, vr: "CS", "XA")
        w.element(0x0028, 0x0010, vr: "UN", DICOMTestWriter.le16(2))
        w.element(0x0028, 0x0011, vr: "UN", DICOMTestWriter.le16(3))
        w.us(0x0028, 0x0100, 8)
        w.nativePixels([1, 2, 3, 4, 5, 6], vr: "OB")
        let s = try ClinicalIngest.read(w.fileBytes(), file: "un.dcm")
        #expect(s.info.height == 2 && s.info.width == 3 && [UInt8](s.pixels) == [1, 2, 3, 4, 5, 6])
    }

    /// An Icon Image Sequence carries its own (encapsulated) Pixel Data inside an item: it must be
    /// skipped, and the top-level Pixel Data read.
    @Test(arguments: encodings) func nestedIconPixelDataIsSkipped(_ syntax: String) throws {
        var icon = DICOMTestWriter(transferSyntax: syntax)
        icon.us(0x0028, 0x0010, 1)
        icon.us(0x0028, 0x0011, 1)
        if syntax == DICOMTestWriter.explicitLittle {
            icon.encapsulatedPixels(offsets: [], fragments: [[0xFF, 0xD8, 0xFF, 0xD9]])
        } else {
            icon.nativePixels([99, 99])
        }
        let file = SyntheticDICOM.image(transferSyntax: syntax, rows: 1, columns: 2, frames: 1) {
            $0.sequence(0x0088, 0x0200, items: [icon.body])
            $0.nativePixels([3, 4], vr: "OB")
        }
        let s = try ClinicalIngest.read(file, file: "icon.dcm")
        #expect(s.info.width == 2 && [UInt8](s.pixels) == [3, 4])
    }

    @Test func shortPixelDataIsAnError() throws {
        let file = SyntheticDICOM.image(rows: 4, columns: 4, frames: 2) { $0.nativePixels([UInt8](repeating: 1, count: 20), vr: "OB") }
        let error = try #require(throws: IngestError.self) { try ClinicalIngest.read(file, file: "short.dcm") }
        #expect(error.description.contains("short.dcm") && error.description.contains("need 32"))
    }

    @Test func nonXrayModalityIsRefusedUnlessForced() throws {
        let file = SyntheticDICOM.image(rows: 2, columns: 2, frames: 1, modality: "CT") { $0.nativePixels([1, 2, 3, 4], vr: "OB") }
        let error = try #require(throws: IngestError.self) { try ClinicalIngest.read(file, file: "ct.dcm") }
        #expect(error == .unsupportedModality(file: "ct.dcm", modality: "CT"))
        #expect(error.description.contains("--allow-any-modality") && error.description.contains("CT"))
        let forced = try ClinicalIngest.read(file, file: "ct.dcm", options: IngestOptions(allowAnyModality: true))
        #expect(forced.info.modality == "CT" && [UInt8](forced.pixels) == [1, 2, 3, 4])
        let rf = SyntheticDICOM.image(rows: 2, columns: 2, frames: 1, modality: "RF") { $0.nativePixels([1, 2, 3, 4], vr: "OB") }
        #expect(try ClinicalIngest.read(rf, file: "rf.dcm").info.modality == "RF")
    }

    @Test func colourAndOddBitDepthsAreRefusedClearly() throws {
        let colour = SyntheticDICOM.image(rows: 1, columns: 1, frames: 1, photometric: "RGB") { $0.nativePixels([1, 2, 3], vr: "OB") }
        let e1 = try #require(throws: IngestError.self) { try ClinicalIngest.read(colour, file: "rgb.dcm") }
        #expect(e1.description.contains("PhotometricInterpretation is RGB"))
        let wide = SyntheticDICOM.image(rows: 1, columns: 1, frames: 1, bitsAllocated: 32) { $0.nativePixels([1, 2, 3, 4]) }
        let e2 = try #require(throws: IngestError.self) { try ClinicalIngest.read(wide, file: "32.dcm") }
        #expect(e2.description.contains("BitsAllocated is 32"))
    }

    @Test func deidentifiedIdIsStableAndFreeOfPatientData() throws {
        func make(_ uid: String, _ name: String) throws -> SequenceInfo {
            let file = SyntheticDICOM.image(rows: 1, columns: 2, frames: 1, sopInstanceUID: uid, patientName: name) {
                $0.nativePixels([7, 9], vr: "OB")
            }
            return try ClinicalIngest.read(file, file: "\(name).dcm").info
        }
        let a = try make("1.2.826.0.1.99.1", "Smith^John"), b = try make("1.2.826.0.1.99.1", "Other^Name")
        let c = try make("1.2.826.0.1.99.2", "Smith^John")
        #expect(a.id == b.id)  // depends on the SOP Instance UID only
        #expect(a.id != c.id)
        #expect(a.id.hasPrefix("dcm-") && a.id.count == 20)
        let encoded = String(decoding: try JSONEncoder().encode(a), as: UTF8.self)
        #expect(!encoded.contains("Smith") && !encoded.contains("PID") && !encoded.contains("1.2.826.0.1.99.1"))
    }

    @Test func sha256MatchesKnownVectors() {
        func hex(_ s: String) -> String { Deidentification.hex(Deidentification.sha256(Data(s.utf8))) }
        #expect(hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        // 64 and 65 bytes: the block boundary.
        #expect(hex(String(repeating: "a", count: 64)) == "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb")
        #expect(hex(String(repeating: "a", count: 65)) == "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0")
    }
}

@Suite struct DICOMFrameCountTests {
    /// Pixel Data with more whole frames than NumberOfFrames says is refused, not cut short.
    @Test func extraFramesAreAnError() throws {
        let pixels = [UInt8](repeating: 7, count: 3 * 2 * 2)
        let file = SyntheticDICOM.image(rows: 2, columns: 2, frames: nil) { $0.nativePixels(pixels, vr: "OB") }
        #expect(throws: IngestError.self) { try ClinicalIngest.read(file, file: "three-frames-no-count.dcm") }
        let fine = SyntheticDICOM.image(rows: 2, columns: 2, frames: 3) { $0.nativePixels(pixels, vr: "OB") }
        #expect(try ClinicalIngest.read(fine, file: "three.dcm").info.frameCount == 3)
    }
}
