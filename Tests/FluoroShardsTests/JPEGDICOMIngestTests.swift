import CTurboJPEG
import Foundation
import Testing
@testable import FluoroShards

/// Encapsulated JPEG Baseline DICOM built in the test: frames encoded with TurboJPEG, then
/// split into fragments with and without a Basic Offset Table. GDCM parses them; CFluoroDICOM
/// groups the fragments into frames and decodes them with libjpeg-turbo.
@Suite struct JPEGDICOMIngestTests {
    static let (rows, columns, frames) = (24, 32, 3)

    /// A smooth test frame (compresses nearly losslessly at quality 100): [H, W] gray.
    static func frame(_ t: Int) -> [UInt8] {
        (0..<(rows * columns)).map { i in UInt8(truncatingIfNeeded: 40 + 60 * t + (i / columns) * 3 + (i % columns) * 2) }
    }

    /// Encodes a gray frame as a baseline JPEG.
    static func encode(_ pixels: [UInt8], width: Int, height: Int) throws -> [UInt8] {
        let handle = try #require(tjInitCompress())
        defer { tjDestroy(handle) }
        var buffer: UnsafeMutablePointer<UInt8>?
        var size: UInt = 0
        let status = pixels.withUnsafeBufferPointer {
            tjCompress2(handle, $0.baseAddress, Int32(width), 0, Int32(height), Int32(TJPF_GRAY.rawValue),
                        &buffer, &size, Int32(TJSAMP_GRAY.rawValue), 100, 0)
        }
        #expect(status == 0)
        let out = try #require(buffer)
        defer { tjFree(out) }
        return Array(UnsafeBufferPointer(start: out, count: Int(size)))
    }

    static func jpegs() throws -> [[UInt8]] { try (0..<frames).map { try encode(frame($0), width: columns, height: rows) } }

    /// Builds the DICOM file from per-frame fragment lists; `table` writes the Basic Offset Table.
    static func file(fragments: [[[UInt8]]], table: Bool, photometric: String = "MONOCHROME2", frameCount: Int? = nil) -> Data {
        var offsets: [UInt32] = []
        var position: UInt32 = 0
        for frame in fragments {
            offsets.append(position)
            for f in frame { position += 8 + UInt32(f.count + f.count % 2) }
        }
        return SyntheticDICOM.image(transferSyntax: DICOMTestWriter.jpegBaseline, rows: rows, columns: columns,
                                    frames: frameCount ?? fragments.count, photometric: photometric) {
            $0.encapsulatedPixels(offsets: table ? offsets : [], fragments: fragments.flatMap { $0 })
        }
    }

    /// Splits a JPEG stream into `parts` fragments of even length (DICOM pads odd fragments, so
    /// only a frame's last fragment may be odd).
    static func split(_ jpeg: [UInt8], parts: Int) -> [[UInt8]] {
        let step = ((jpeg.count + parts - 1) / parts + 1) & ~1
        return stride(from: 0, to: jpeg.count, by: step).map { Array(jpeg[$0..<min($0 + step, jpeg.count)]) }
    }

    func checkDecoded(_ data: Data, inverted: Bool = false) {
        #expect(data.count == Self.frames * Self.rows * Self.columns)
        let expected = (0..<Self.frames).flatMap(Self.frame).map { inverted ? 255 - $0 : $0 }
        let error = zip([UInt8](data), expected).map { abs(Int($0) - Int($1)) }
        #expect(Double(error.reduce(0, +)) / Double(error.count) < 1.0)
        #expect(error.max() ?? 99 <= 3)
    }

    @Test(arguments: [(1, true), (1, false), (3, true), (3, false)])
    func framesDecodeWithAndWithoutOffsetTable(_ parts: Int, _ table: Bool) throws {
        let fragments = try Self.jpegs().map { Self.split($0, parts: parts) }
        let s = try ClinicalIngest.read(Self.file(fragments: fragments, table: table), file: "j.dcm")
        #expect(s.info.frameCount == Self.frames && s.info.width == Self.columns && s.info.height == Self.rows)
        #expect(s.info.pixelFormat == .uint8 && s.info.bitsStored == 8)
        checkDecoded(s.pixels)
    }

    @Test func singleFrameInManyFragments() throws {
        let jpeg = try Self.encode(Self.frame(0), width: Self.columns, height: Self.rows)
        // No table, and fragments that do not start with SOI: all belong to the one frame.
        let s = try ClinicalIngest.read(Self.file(fragments: [Self.split(jpeg, parts: 4)], table: false), file: "one.dcm")
        #expect(s.info.frameCount == 1)
        #expect(s.pixels.count == Self.rows * Self.columns)
    }

    /// Pad bytes inside a frame (a writer splitting a frame at odd lengths and padding each
    /// fragment, against PS3.5 A.4) corrupt the JPEG stream: the frame is refused, never decoded wrong.
    @Test func padBytesInsideAFrameAreRefusedNotDecodedWrong() throws {
        let fragments = try Self.jpegs().map { jpeg -> [[UInt8]] in
            let cut = (jpeg.count / 2) | 1  // odd: the writer appends a zero pad byte mid-stream
            return [Array(jpeg[..<cut]), Array(jpeg[cut...])]
        }
        let error = try #require(throws: IngestError.self) {
            try ClinicalIngest.read(Self.file(fragments: fragments, table: true), file: "pad.dcm")
        }
        guard case let .decodeFailed(file, frame, _, reason) = error else { Issue.record("wrong error \(error)"); return }
        #expect(file == "pad.dcm" && frame == 0 && reason.contains("libjpeg-turbo"))
    }

    @Test func monochrome1JPEGIsInverted() throws {
        let fragments = try Self.jpegs().map { [$0] }
        let s = try ClinicalIngest.read(Self.file(fragments: fragments, table: true, photometric: "MONOCHROME1"), file: "m1.dcm")
        checkDecoded(s.pixels, inverted: true)
    }

    @Test func frameCountMismatchIsExplained() throws {
        let fragments = try Self.jpegs().map { [$0] }
        let error = try #require(throws: IngestError.self) {
            try ClinicalIngest.read(Self.file(fragments: fragments, table: false, frameCount: 5), file: "five.dcm")
        }
        #expect(error == .frameCountMismatch(file: "five.dcm",
                                             detail: "NumberOfFrames is 5 but the encapsulated pixel data holds only 3 fragments"))
        // Two frames in six fragments without a table, but three start-of-image markers.
        let six = try Self.jpegs().map { Self.split($0, parts: 2) }
        let e2 = try #require(throws: IngestError.self) {
            try ClinicalIngest.read(Self.file(fragments: six, table: false, frameCount: 2), file: "two.dcm")
        }
        #expect(e2.description.contains("two.dcm") && e2.description.contains("3 JPEG start-of-image markers"))
    }

    @Test func wrongSizeFrameIsRefused() throws {
        let small = try Self.encode([UInt8](repeating: 9, count: 8 * 8), width: 8, height: 8)
        let error = try #require(throws: IngestError.self) {
            try ClinicalIngest.read(Self.file(fragments: [[small]], table: true), file: "small.dcm")
        }
        guard case let .decodeFailed(_, frame, _, reason) = error else { Issue.record("wrong error \(error)"); return }
        #expect(frame == 0 && reason.contains("8x8"))
    }

    /// 24 frames decode on several threads (a range of frames each, one per core) exactly as each
    /// decodes alone; with corrupt frames in two ranges the error names the first of them.
    @Test func manyFramesDecodeInParallelAndTheFirstBadFrameIsNamed() throws {
        let count = 24
        let jpegs = try (0..<count).map { try Self.encode(Self.frame($0 % 4), width: Self.columns, height: Self.rows) }
        let all = try ClinicalIngest.read(Self.file(fragments: jpegs.map { [$0] }, table: true), file: "many.dcm")
        let plane = Self.rows * Self.columns
        for t in [0, 5, 11, 12, 17, 23] {
            let alone = try ClinicalIngest.read(Self.file(fragments: [[jpegs[t]]], table: true), file: "one.dcm")
            #expect(all.pixels[(t * plane)..<((t + 1) * plane)] == alone.pixels[0..<plane], "frame \(t)")
        }
        var broken = jpegs
        for t in [14, 9] { broken[t] = Array(broken[t].prefix(40)) }  // cut inside the headers; in two ranges
        let error = try #require(throws: IngestError.self) {
            try ClinicalIngest.read(Self.file(fragments: broken.map { [$0] }, table: true), file: "broken.dcm")
        }
        guard case let .decodeFailed(_, frame, _, _) = error else { Issue.record("wrong error \(error)"); return }
        #expect(frame == 9)
    }

    @Test func corruptJPEGIsAnError() throws {
        var jpeg = try Self.encode(Self.frame(0), width: Self.columns, height: Self.rows)
        jpeg = Array(jpeg.prefix(40))  // cut inside the headers
        #expect(throws: IngestError.self) { try ClinicalIngest.read(Self.file(fragments: [[jpeg]], table: true), file: "bad.dcm") }
    }
}
