import Foundation
import Testing
@testable import FluoroShards

/// The committed transfer-syntax fixtures (Fixtures/syntaxes, made by its make.sh with `gdcmconv`
/// from crops of the real run xa_rca_96f.dcm): every syntax an XA/RF archive holds, at 8, 12 and
/// 16 bits stored. Lossless ones must decode bit for bit equal to their uncompressed base.
func syntaxFixtureDirectory(filePath: String = #filePath) -> URL {
    URL(fileURLWithPath: filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/syntaxes")
}

/// Little-endian UInt16 pixels.
func uint16Values(_ data: Data) -> [UInt16] {
    data.withUnsafeBytes { raw in (0..<(raw.count / 2)).map { UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self)) } }
}

/// Pixel values of a sequence as integers.
func pixelValues(_ s: FrameSequence) -> [Int] {
    s.info.pixelFormat == .uint8 ? s.pixels.map(Int.init) : uint16Values(s.pixels).map(Int.init)
}

@Suite struct TransferSyntaxFixtureTests {
    struct Case: Sendable, CustomStringConvertible {
        var file: String
        var base: String
        var uid: String
        /// nil: lossless (bit for bit); else the largest mean absolute error allowed, as a fraction of 2^BitsStored.
        var lossyTolerance: Double?
        /// The largest absolute error of any pixel, when the syntax bounds it (JPEG-LS near-lossless).
        var maxError: Int?
        var description: String { file }
    }

    static let lossless: [(suffix: String, uid: String)] = [
        ("implicit", "1.2.840.10008.1.2"), ("deflated", "1.2.840.10008.1.2.1.99"),
        ("jpeg_lossless", "1.2.840.10008.1.2.4.70"), ("jpegls", "1.2.840.10008.1.2.4.80"),
        ("j2k", "1.2.840.10008.1.2.4.90"), ("rle", "1.2.840.10008.1.2.5"),
    ]

    static let cases: [Case] = {
        var cases: [Case] = []
        for base in ["base8", "base12", "base16"] {
            cases.append(Case(file: "\(base).dcm", base: "\(base).dcm", uid: "1.2.840.10008.1.2.1"))
            for (suffix, uid) in lossless { cases.append(Case(file: "\(base)_\(suffix).dcm", base: "\(base).dcm", uid: uid)) }
            cases.append(Case(file: "\(base)_jpegls_near2.dcm", base: "\(base).dcm", uid: "1.2.840.10008.1.2.4.81",
                              lossyTolerance: 2.0 / 256, maxError: 2))
            cases.append(Case(file: "\(base)_j2k_lossy.dcm", base: "\(base).dcm", uid: "1.2.840.10008.1.2.4.91", lossyTolerance: 0.01))
        }
        cases.append(Case(file: "base8_jpeg_baseline.dcm", base: "base8.dcm", uid: "1.2.840.10008.1.2.4.50", lossyTolerance: 0.01))
        cases.append(Case(file: "base12_jpeg_extended.dcm", base: "base12.dcm", uid: "1.2.840.10008.1.2.4.51", lossyTolerance: 0.01))
        return cases
    }()

    @Test(arguments: cases) func decodesLikeItsUncompressedBase(_ c: Case) throws {
        let s = try ClinicalIngest.read(syntaxFixtureDirectory().appendingPathComponent(c.file))
        let base = try ClinicalIngest.read(syntaxFixtureDirectory().appendingPathComponent(c.base))
        #expect(s.info.source.contains("(\(c.uid))"), "\(s.info.source)")
        #expect(s.info.frameCount == base.info.frameCount && s.info.width == 128 && s.info.height == 128)
        #expect(s.info.pixelFormat == base.info.pixelFormat && s.info.bitsStored == base.info.bitsStored)
        #expect(s.info.frameTimeMs == 33 && s.info.modality == "XA")
        #expect(s.info.pixelSpacingMm == [0.2 / 1.25, 0.2 / 1.25])
        #expect(s.validationProblem() == nil)
        if let tolerance = c.lossyTolerance {
            let a = pixelValues(s), b = pixelValues(base)
            let errors = zip(a, b).map { abs($0 - $1) }
            let mae = Double(errors.reduce(0, +)) / Double(errors.count)
            #expect(mae <= tolerance * Double(c.maxError == nil ? 1 << s.info.bitsStored : 256), "mean absolute error \(mae)")
            if let maxError = c.maxError { #expect(errors.max()! <= maxError) }
            #expect(a.allSatisfy { $0 < 1 << s.info.bitsStored })
        } else {
            #expect(s.pixels == base.pixels, "not bit for bit equal to \(c.base)")
        }
    }

    @Test func bitDepthsAreKept() throws {
        for (file, format, bits) in [("base8.dcm", PixelFormat.uint8, 8), ("base12.dcm", .uint16, 12), ("base16.dcm", .uint16, 16)] {
            let s = try ClinicalIngest.read(syntaxFixtureDirectory().appendingPathComponent(file))
            #expect(s.info.pixelFormat == format && s.info.bitsStored == bits, "\(file)")
            #expect(pixelValues(s).max()! >= 1 << (bits - 1), "\(file) uses its top bit")
        }
    }

    /// MONOCHROME1 (0 = white) is inverted to the MONOCHROME2 convention within BitsStored, in
    /// native and compressed files alike: base12_mono1 holds base12's first two frames' values.
    @Test(arguments: ["base12_mono1.dcm", "base12_mono1_jpeg_lossless.dcm"])
    func monochrome1IsInverted(_ file: String) throws {
        let s = try ClinicalIngest.read(syntaxFixtureDirectory().appendingPathComponent(file))
        let base = try ClinicalIngest.read(syntaxFixtureDirectory().appendingPathComponent("base12.dcm"))
        let expected = pixelValues(base).prefix(2 * 128 * 128).map { 4095 - $0 }
        #expect(s.info.bitsStored == 12 && pixelValues(s) == Array(expected))
    }

    /// Enhanced XA: no top-level timing or geometry; frame time from the per-frame Frame Reference
    /// DateTime (66.7 ms apart), spacing from ImagerPixelSpacing 0.3 in the shared XA/XRF Frame
    /// Pixel Data Properties over the X-Ray Geometry magnification 1200 / 800.
    @Test(arguments: ["enhanced8.dcm", "enhanced8_jpeg_lossless.dcm"])
    func enhancedXAFunctionalGroupsAreRead(_ file: String) throws {
        let s = try ClinicalIngest.read(syntaxFixtureDirectory().appendingPathComponent(file))
        let base = try ClinicalIngest.read(syntaxFixtureDirectory().appendingPathComponent("base8.dcm"))
        #expect(s.info.frameCount == 4 && s.pixels == base.pixels)
        let t = try #require(s.info.frameTimeMs)
        #expect(abs(t - 66.7) < 1e-2)
        let spacing = try #require(s.info.pixelSpacingMm)
        #expect(spacing.count == 2 && spacing.allSatisfy { abs($0 - 0.2) < 1e-9 })
        #expect(s.info.modality == "XA")
    }

    @Test func dicomDateTimesGiveSecondsDifferences() throws {
        let a = try #require(DICOMReader.secondsOf(dateTime: "20240229235959.900000"))
        let b = try #require(DICOMReader.secondsOf(dateTime: "20240301000000.050000+0100"))
        #expect(abs((b - a) - 0.15) < 1e-4)
        #expect(DICOMReader.secondsOf(dateTime: "2024") == nil)
        #expect(DICOMReader.secondsOf(dateTime: "20241399") == nil)
    }

    /// Per-frame values that vary (a zoom during the run) leave the spacing unknown rather than wrong.
    @Test func varyingPerFrameSpacingIsUnknown() {
        var a = DICOMAttributes()
        a.perFrame[.pixelSpacing] = ["0.2\\0.2", "0.2\\0.2"]
        #expect(DICOMReader.pixelSpacing(a) == [0.2, 0.2])
        a.perFrame[.pixelSpacing] = ["0.2\\0.2", "0.3\\0.3"]
        #expect(DICOMReader.pixelSpacing(a) == nil)
    }
}
