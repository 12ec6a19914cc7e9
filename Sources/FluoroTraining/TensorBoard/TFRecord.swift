import Foundation

/// Errors reading TFRecord framing, naming the file and the record.
public enum TFRecordError: Error, CustomStringConvertible, Equatable {
    case truncated(file: String, record: Int)
    case badLengthChecksum(file: String, record: Int)
    case badDataChecksum(file: String, record: Int)

    public var description: String {
        switch self {
        case let .truncated(file, record):
            return "\(file): record \(record) is cut short (the writer was interrupted); the records before it are intact"
        case let .badLengthChecksum(file, record):
            return "\(file): record \(record) has a wrong length checksum; the file is corrupt from there on"
        case let .badDataChecksum(file, record):
            return "\(file): record \(record) has a wrong data checksum; the file is corrupt from there on"
        }
    }
}

/// TFRecord framing, the container of TensorBoard event files: per record, the length as
/// uint64 little-endian, the masked CRC-32C of those 8 bytes, the data, and the masked CRC-32C
/// of the data (little-endian uint32 each).
public enum TFRecord {
    /// One framed record holding `data`.
    public static func frame(_ data: Data) -> Data {
        var length = Data()
        appendLittleEndian(UInt64(data.count), to: &length)
        var out = length
        appendLittleEndian(CRC32C.masked(length), to: &out)
        out.append(data)
        appendLittleEndian(CRC32C.masked(data), to: &out)
        return out
    }

    /// The records of a file's bytes, checksums verified; `file` names it in errors.
    public static func records(in bytes: Data, file: String = "<memory>") throws -> [Data] {
        let b = [UInt8](bytes)
        var records: [Data] = [], at = 0
        while at < b.count {
            let index = records.count
            guard at + 12 <= b.count else { throw TFRecordError.truncated(file: file, record: index) }
            let lengthBytes = b[at..<(at + 8)]
            guard CRC32C.masked(lengthBytes) == readUInt32(b, at + 8) else {
                throw TFRecordError.badLengthChecksum(file: file, record: index)
            }
            let length = Int(lengthBytes.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
            let start = at + 12
            guard length >= 0, start + length + 4 <= b.count else { throw TFRecordError.truncated(file: file, record: index) }
            let data = b[start..<(start + length)]
            guard CRC32C.masked(data) == readUInt32(b, start + length) else {
                throw TFRecordError.badDataChecksum(file: file, record: index)
            }
            records.append(Data(data))
            at = start + length + 4
        }
        return records
    }

    static func appendLittleEndian<T: FixedWidthInteger>(_ value: T, to data: inout Data) {
        withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) }
    }

    static func readUInt32(_ b: [UInt8], _ at: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(b[at + $1]) << (8 * UInt32($1)) }
    }
}
