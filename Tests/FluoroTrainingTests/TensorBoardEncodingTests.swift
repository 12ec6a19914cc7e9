import Foundation
import Testing
@testable import FluoroTraining

/// The TensorBoard event encoder against known bytes. The expected record was made with
/// tensorboard 2.21's own protobuf classes and `masked_crc32c` (see docs/TRAINING.md §"Watching a run").
struct TensorBoardEncodingTests {
    /// The record of Event {wall_time 1.0, step 1, summary {value {tag "a", simple_value 1.0}}}.
    static let oneScalarRecord: [UInt8] = [
        0x17, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xE7, 0xCE, 0xF8, 0x1E, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0xF0, 0x3F, 0x10, 0x01, 0x2A, 0x0A, 0x0A, 0x08, 0x0A, 0x01, 0x61, 0x15, 0x00, 0x00, 0x80, 0x3F, 0xDB,
        0x34, 0x50, 0x03,
    ]

    @Test func crc32cOfTheCheckString() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8]()) == 0)
        let crc: UInt32 = 0xE306_9283
        #expect(CRC32C.masked(Array("123456789".utf8)) == ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8)
    }

    @Test func oneScalarRecordMatchesKnownBytes() {
        let event = TensorBoardEvent(wallTime: 1, step: 1, payload: .summary([.scalar(tag: "a", value: 1)]))
        #expect([UInt8](TFRecord.frame(event.encoded())) == Self.oneScalarRecord)
    }

    @Test func fileVersionEventMatchesKnownBytes() {
        let event = TensorBoardEvent(wallTime: 2.5, step: 0, payload: .fileVersion(TensorBoardEvent.fileVersion))
        let hex = event.encoded().map { String(format: "%02x", $0) }.joined()
        #expect(hex == "0900000000000004401a0d627261696e2e4576656e743a32")
    }

    /// SessionLog is Event field 7 (field 6 is the deprecated LogMessage, which TensorBoard ignores).
    @Test func sessionStartEventMatchesKnownBytes() {
        let event = TensorBoardEvent(wallTime: 2.5, step: 11, payload: .sessionStart)
        let hex = event.encoded().map { String(format: "%02x", $0) }.joined()
        #expect(hex == "090000000000000440100b3a020801")
    }

    @Test func varintsOfLargeAndNegativeNumbers() {
        var w = ProtobufWriter()
        w.varint(300)
        #expect([UInt8](w.data) == [0xAC, 0x02])
        var n = ProtobufWriter()
        n.int64(2, -1)
        #expect([UInt8](n.data) == [0x10] + [UInt8](repeating: 0xFF, count: 9) + [0x01])
    }

    @Test func recordsDecodeBackAndCorruptionIsNamed() throws {
        let events = [
            TensorBoardEvent(wallTime: 3, step: 0, payload: .fileVersion(TensorBoardEvent.fileVersion)),
            TensorBoardEvent(wallTime: 4, step: 7, payload: .sessionStart),
            TensorBoardEvent(wallTime: 5, step: 123_456_789_012, payload: .summary([
                .scalar(tag: "train/loss", value: 0.25),
                .image(tag: "reconstruction", .init(width: 3, height: 2, png: Data([1, 2, 3]))),
            ])),
        ]
        var file = Data()
        for e in events { file.append(TFRecord.frame(e.encoded())) }
        let decoded = try TFRecord.records(in: file).map { try TensorBoardEvent(decoding: $0) }
        #expect(decoded == events)
        var corrupt = file
        corrupt[corrupt.count - 6] ^= 0x40
        #expect(throws: TFRecordError.badDataChecksum(file: "f", record: 2)) { try TFRecord.records(in: corrupt, file: "f") }
        #expect(throws: TFRecordError.truncated(file: "f", record: 2)) { try TFRecord.records(in: file.dropLast(3), file: "f") }
    }

    @Test func eachWriterOpensItsOwnFileInNameOrder() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fluoro-tb-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        let first = try TensorBoardWriter(directory: dir, now: now)
        try first.scalars([("x", 1)], step: 1, now: now)
        let second = try TensorBoardWriter(directory: dir, restartStep: 2, now: now)
        try second.scalars([("x", 2)], step: 2, now: now)
        #expect(TensorBoardWriter.eventFiles(in: dir) == [first.url, second.url])
        #expect(first.url.lastPathComponent.hasPrefix("events.out.tfevents.1700000000."))
        let events = try TensorBoardWriter.read(second.url)
        #expect(events.map(\.payload) == [.fileVersion("brain.Event:2"), .sessionStart, .summary([.scalar(tag: "x", value: 2)])])
        #expect(events[1].step == 2)
    }
}
