import Foundation

/// A bounds-checked little-endian cursor over a file's bytes (the NumPy header reader): every read that would run past the
/// end throws `IngestError.truncated` naming what was being read, so bad input never crashes.
struct ByteReader {
    /// The whole file (zero-based indices).
    let data: Data
    /// The file's name, for errors.
    let file: String
    /// Offset of the next byte to read.
    var position: Int

    init(data: Data, file: String, position: Int = 0) {
        // Slices keep their parent's indices; rebase so offsets are file offsets.
        self.data = data.startIndex == 0 ? data : Data(data)
        self.file = file
        self.position = position
    }

    /// Bytes left after `position`.
    var remaining: Int { data.count - position }

    /// Throws unless `count` more bytes exist.
    func require(_ count: Int, _ what: @autoclosure () -> String) throws {
        if count < 0 || count > remaining {
            throw IngestError.truncated(file: file, what: what(), offset: position)
        }
    }

    /// Reads a little-endian UInt16.
    mutating func uint16(_ what: @autoclosure () -> String) throws -> UInt16 {
        try require(2, what())
        let p = position
        position += 2
        return data.withUnsafeBytes { UInt16(littleEndian: $0.loadUnaligned(fromByteOffset: p, as: UInt16.self)) }
    }

    /// Reads a little-endian UInt32.
    mutating func uint32(_ what: @autoclosure () -> String) throws -> UInt32 {
        try require(4, what())
        let p = position
        position += 4
        return data.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: p, as: UInt32.self)) }
    }

    /// Consumes `count` bytes and returns their range.
    mutating func take(_ count: Int, _ what: @autoclosure () -> String) throws -> Range<Int> {
        try require(count, what())
        let start = position
        position += count
        return start..<position
    }

    /// True when the bytes at `offset` equal `magic` (false when the file is too short).
    func matches(_ magic: [UInt8], at offset: Int) -> Bool {
        guard offset >= 0, offset + magic.count <= data.count else { return false }
        return data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> Bool in
            magic.indices.allSatisfy { raw[offset + $0] == magic[$0] }
        }
    }
}
