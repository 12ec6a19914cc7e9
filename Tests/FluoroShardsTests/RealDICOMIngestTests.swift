import Foundation
import Testing
@testable import FluoroShards

/// The committed fixture directory of real XA files (Tests/FluoroShardsTests/Fixtures/dicom).
func dicomFixtureDirectory(filePath: String = #filePath) -> URL {
    URL(fileURLWithPath: filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/dicom")
}

/// Mean of 8-bit pixels.
func meanOfBytes(_ data: Data) -> Double {
    data.withUnsafeBytes { raw in Double(raw.reduce(0) { $0 + Int($1) }) / Double(max(raw.count, 1)) }
}

@Suite struct RealDICOMIngestTests {
    struct Case: Sendable, CustomStringConvertible {
        var file: String
        var frames: Int
        var frameTimeMs: Double
        var referenceMean: Double
        var description: String { file }
    }

    /// Frame counts, frame times and reference means from Fixtures/dicom/README.md (pydicom + Pillow decode).
    static let cases = [
        Case(file: "xa_balloon_17f.dcm", frames: 17, frameTimeMs: 66, referenceMean: 34.851),
        Case(file: "xa_rca_96f.dcm", frames: 96, frameTimeMs: 33, referenceMean: 67.660),
    ]

    @Test(arguments: cases) func realFilePacks(_ c: Case) throws {
        let url = dicomFixtureDirectory().appendingPathComponent(c.file)
        let sequence = try ClinicalIngest.read(url)
        #expect(sequence.validationProblem() == nil)
        #expect(sequence.info.frameCount == c.frames)
        #expect(sequence.info.width == 512 && sequence.info.height == 512)
        #expect(sequence.info.pixelFormat == .uint8)
        #expect(sequence.info.bitsStored == 8)
        #expect(sequence.info.frameTimeMs == c.frameTimeMs)
        #expect(sequence.info.modality == "XA")
        #expect(sequence.info.source.contains("1.2.840.10008.1.2.4.50"))
        #expect(sequence.pixels.count == c.frames * 512 * 512)
        let mean = meanOfBytes(sequence.pixels)
        #expect(abs(mean - c.referenceMean) < 1.0, "mean \(mean), reference \(c.referenceMean)")
        // Frames must differ (a decoder writing one frame everywhere would still get a plausible mean).
        let frameBytes = sequence.info.frameBytes
        let last = sequence.pixels.subdata(in: (c.frames - 1) * frameBytes..<c.frames * frameBytes)
        let middle = sequence.pixels.subdata(in: (c.frames / 2) * frameBytes..<(c.frames / 2 + 1) * frameBytes)
        #expect(last != middle)
    }

    @Test func idsAreDeidentifiedHashesOfTheSOPInstanceUID() throws {
        let url = dicomFixtureDirectory().appendingPathComponent("xa_balloon_17f.dcm")
        let a = try ClinicalIngest.read(url), b = try ClinicalIngest.read(url)
        #expect(a.info.id == b.info.id)
        let uid = "1.3.12.2.1107.5.4.3.284980.19951129.170916.11"
        let expected = "dcm-" + Deidentification.hex(Deidentification.sha256(Data(uid.utf8))).prefix(16)
        #expect(a.info.id == expected)
        #expect(!a.info.id.contains(uid))
        let other = try ClinicalIngest.read(dicomFixtureDirectory().appendingPathComponent("xa_rca_96f.dcm"))
        #expect(other.info.id != a.info.id)
    }

    @Test func candidatesListOnlyTheImagesInTheFixtureDirectory() throws {
        let found = try ClinicalIngest.candidates(in: dicomFixtureDirectory())
        #expect(found.map(\.lastPathComponent) == ["xa_balloon_17f.dcm", "xa_rca_96f.dcm"])
    }

    /// Cutting a real file anywhere gives an IngestError, never a crash or a silent short read.
    @Test func truncatedRealFileThrows() throws {
        let data = try Data(contentsOf: dicomFixtureDirectory().appendingPathComponent("xa_balloon_17f.dcm"))
        for cut in [0, 100, 131, 132, 140, 200, 400, 639, 1000, 3000, 5990, 6000, 6100, 30_000, data.count / 2, data.count - 9, data.count - 1] {
            #expect(throws: IngestError.self, "cut at \(cut)") {
                _ = try ClinicalIngest.read(data.prefix(cut), file: "cut-\(cut).dcm")
            }
        }
    }
}
