import FluoroSupport
import Foundation

/// Fixed parts of a shard file (see shards/FORMAT.md): a 32-byte header, LZ4-frame streams,
/// an index, and a 48-byte footer at the committed end. All integers are little endian.
enum ShardLayout {
    static let formatVersion: UInt32 = 1
    static let headerMagic = Array("FLUOSHRD".utf8)
    static let footerMagic = Array("FLUOFOOT".utf8)
    static let indexMagic = Array("FLIX".utf8)
    static let headerSize = 32
    static let footerSize = 48
    static let fileExtension = "flsh"

    /// The 32-byte header: magic, version, flags, reserved, XXH64 of bytes 0..<24.
    static func header() -> [UInt8] {
        var w = ByteWriter()
        w.bytes(headerMagic)
        w.u32(formatVersion)
        w.u32(0)
        w.u64(0)
        w.u64(XXHash64.hash(Data(w.buffer)))
        return w.buffer
    }

    /// Checks a header; returns a reason when it is wrong.
    static func headerProblem(_ bytes: [UInt8]) -> String? {
        guard bytes.count == headerSize else { return "header is \(bytes.count) bytes, expected \(headerSize)" }
        guard Array(bytes[0..<8]) == headerMagic else { return "not a Fluoro shard (bad magic)" }
        var r = IndexReader(bytes)
        r.offset = 24
        let stored = (try? r.u64()) ?? 0
        if stored != XXHash64.hash(Data(bytes[0..<24])) { return "header checksum mismatch" }
        r.offset = 8
        let version = (try? r.u32()) ?? 0
        if version != formatVersion { return "format version \(version), this build reads \(formatVersion): upgrade fluoro" }
        return nil
    }

    /// Where the index is: the footer's content.
    struct Footer: Equatable {
        var indexOffset: UInt64
        var indexLength: UInt64
        var indexHash: UInt64
        /// 0 when written, +1 each time layers are appended.
        var generation: UInt32

        func encoded() -> [UInt8] {
            var w = ByteWriter()
            w.u64(indexOffset)
            w.u64(indexLength)
            w.u64(indexHash)
            w.u32(generation)
            w.u32(formatVersion)
            w.bytes(footerMagic)
            w.u64(XXHash64.hash(Data(w.buffer)))
            return w.buffer
        }

        /// Parses a footer; throws a reason when it is malformed.
        static func decode(_ bytes: [UInt8]) throws -> Footer {
            guard bytes.count == footerSize else { throw LayoutProblem("footer is \(bytes.count) bytes, expected \(footerSize)") }
            guard Array(bytes[32..<40]) == footerMagic else {
                throw LayoutProblem("no footer at the end (the shard is truncated, or has an uncommitted tail)")
            }
            var r = IndexReader(bytes)
            r.offset = 40
            if try r.u64() != XXHash64.hash(Data(bytes[0..<40])) { throw LayoutProblem("footer checksum mismatch") }
            r.offset = 0
            let footer = Footer(indexOffset: try r.u64(), indexLength: try r.u64(), indexHash: try r.u64(), generation: try r.u32())
            let version = try r.u32()
            if version != formatVersion { throw LayoutProblem("footer format version \(version), this build reads \(formatVersion)") }
            return footer
        }
    }
}

/// A reason a structure is malformed (turned into a `ShardError` with its place by the caller).
struct LayoutProblem: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// What a stream holds.
public enum StreamKind: Equatable, Hashable, Sendable, CustomStringConvertible {
    case pixels
    case annotations
    case layer(LayerKind)

    /// The byte stored in the index.
    var code: UInt8 {
        switch self {
        case .pixels: return 0
        case .annotations: return 1
        case .layer(.vesselness): return 2
        case .layer(.vesselMask): return 3
        case .layer(.catheterMask): return 4
        }
    }

    init?(code: UInt8) {
        switch code {
        case 0: self = .pixels
        case 1: self = .annotations
        case 2: self = .layer(.vesselness)
        case 3: self = .layer(.vesselMask)
        case 4: self = .layer(.catheterMask)
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .pixels: return "pixels"
        case .annotations: return "annotations"
        case .layer(let kind): return "layer \(kind.rawValue)"
        }
    }
}

/// Appends little-endian integers to a byte array.
struct ByteWriter {
    var buffer: [UInt8] = []
    mutating func bytes(_ b: [UInt8]) { buffer += b }
    mutating func u8(_ v: UInt8) { buffer.append(v) }
    mutating func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { buffer += $0 } }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { buffer += $0 } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { buffer += $0 } }
}

/// Reads little-endian integers from a byte array, bounds-checked: never traps on short input.
struct IndexReader {
    let bytes: [UInt8]
    var offset = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var remaining: Int { bytes.count - offset }

    private mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
        guard n >= 0, n <= remaining else { throw LayoutProblem("index ends early (wanted \(n) bytes at offset \(offset) of \(bytes.count))") }
        defer { offset += n }
        return bytes[offset..<(offset + n)]
    }

    private mutating func integer<T: FixedWidthInteger>(_: T.Type) throws -> T {
        let slice = try take(MemoryLayout<T>.size)
        var v: T = 0
        for (i, b) in slice.enumerated() { v |= T(b) << (8 * i) }
        return v
    }

    mutating func u8() throws -> UInt8 { try integer(UInt8.self) }
    mutating func u16() throws -> UInt16 { try integer(UInt16.self) }
    mutating func u32() throws -> UInt32 { try integer(UInt32.self) }
    mutating func u64() throws -> UInt64 { try integer(UInt64.self) }
    mutating func data(_ n: Int) throws -> Data { Data(try take(n)) }
}
