import Foundation
import Testing
@testable import FluoroShards

/// The decoding process (`DICOMDecoder`): one process reads file after file, and a file that kills
/// it is reported in one line while the next file reads in a new process. Each test has a decoder
/// of its own, so the counts do not depend on what other tests read at the same time.
@Suite struct DICOMDecoderProcessTests {
    /// A small valid XA run, distinct per `index`.
    static func run(_ index: Int) -> Data {
        SyntheticDICOM.image(rows: 4, columns: 4, frames: 2, sopInstanceUID: "1.2.826.0.1.9.\(index)") {
            $0.nativePixels((0..<32).map { UInt8(($0 * 3 + index) & 0xFF) }, vr: "OB")
        }
    }

    static func read(_ data: Data, _ file: String, _ decoder: DICOMDecoder) throws -> FrameSequence {
        try DICOMReader.read(data, file: file, options: IngestOptions(), decoder: decoder)
    }

    @Test func manyFilesShareOneProcess() throws {
        let decoder = try #require(DICOMDecoder())
        #expect(decoder.spawns == 0)
        for i in 0..<20 {
            let sequence = try Self.read(Self.run(i), "run\(i).dcm", decoder)
            #expect(sequence.info.frameCount == 2 && sequence.pixels.first == UInt8(i))
        }
        let real = try Data(contentsOf: dicomFixtureDirectory().appendingPathComponent("xa_rca_96f.dcm"))
        #expect(try Self.read(real, "rca.dcm", decoder).info.frameCount == 96)
        // A refused file (truncated) does not cost a process either.
        #expect(throws: IngestError.self) { try Self.read(real.prefix(5000), "cut.dcm", decoder) }
        #expect(decoder.spawns == 1)
        // The lean decoder beside the test runner when it was built, else the runner itself.
        let lean = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("fluoro-dicom-decoder")
        let expected = FileManager.default.isExecutableFile(atPath: lean.path) ? lean.resolvingSymlinksInPath().path : "/proc/self/exe"
        #expect(URL(fileURLWithPath: decoder.executable).resolvingSymlinksInPath().path == expected)
    }

    @Test func aFileThatKillsTheProcessIsReportedAndTheNextFileReads() throws {
        let marker = "FLUORO-TEST-CRASH-\(UUID().uuidString)"
        let decoder = try #require(DICOMDecoder(crashMarker: marker))
        #expect(try Self.read(Self.run(1), "before.dcm", decoder).info.frameCount == 2)
        #expect(decoder.spawns == 1)

        let error = try #require(throws: IngestError.self) { try Self.read(Self.run(2) + Data(marker.utf8), "crash.dcm", decoder) }
        #expect(error == .decoderFailed(file: "crash.dcm", detail: "GDCM crashed on this file (signal 11, Segmentation fault); it is truncated or corrupt"))
        #expect(error.description.hasPrefix("crash.dcm: GDCM crashed on this file (signal 11") && !error.description.contains("\n"))

        for i in 3..<6 {
            #expect(try Self.read(Self.run(i), "after\(i).dcm", decoder).pixels.first == UInt8(i))
        }
        #expect(decoder.spawns == 2)
    }

    /// The process started ahead of the first file is the one that reads it.
    @Test func anEarlyStartIsReused() throws {
        let decoder = try #require(DICOMDecoder())
        #expect(decoder.start())
        #expect(decoder.spawns == 1)
        #expect(try Self.read(Self.run(7), "early.dcm", decoder).info.frameCount == 2)
        #expect(decoder.spawns == 1)
    }
}
