import Foundation

/// Errors decoding protobuf bytes.
public enum ProtobufError: Error, CustomStringConvertible, Equatable {
    case truncated(at: Int)
    case unsupportedWireType(Int, at: Int)

    public var description: String {
        switch self {
        case .truncated(let at): return "protobuf message cut short at byte \(at)"
        case let .unsupportedWireType(type, at): return "protobuf wire type \(type) at byte \(at) is not supported (groups are obsolete)"
        }
    }
}

/// A protocol-buffers wire-format decoder: the fields of one message in order, for reading
/// TensorBoard events back (tests, `fluoro report`).
public struct ProtobufReader {
    /// One field's number and value.
    public enum Value: Equatable {
        case varint(UInt64)
        case fixed64(UInt64)
        case fixed32(UInt32)
        case bytes(Data)
    }

    /// The fields of `message`, in order.
    public static func fields(_ message: Data) throws -> [(field: Int, value: Value)] {
        let b = [UInt8](message)
        var at = 0, out: [(Int, Value)] = []
        while at < b.count {
            let key = try varint(b, &at)
            let field = Int(key >> 3), type = Int(key & 7)
            switch type {
            case 0: out.append((field, .varint(try varint(b, &at))))
            case 1: out.append((field, .fixed64(try fixed(b, &at, 8))))
            case 5: out.append((field, .fixed32(UInt32(try fixed(b, &at, 4)))))
            case 2:
                let n = Int(try varint(b, &at))
                guard n >= 0, at + n <= b.count else { throw ProtobufError.truncated(at: at) }
                out.append((field, .bytes(Data(b[at..<(at + n)]))))
                at += n
            default: throw ProtobufError.unsupportedWireType(type, at: at)
            }
        }
        return out
    }

    static func varint(_ b: [UInt8], _ at: inout Int) throws -> UInt64 {
        var value: UInt64 = 0, shift: UInt64 = 0
        while true {
            guard at < b.count, shift < 64 else { throw ProtobufError.truncated(at: at) }
            let byte = b[at]; at += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return value }
            shift += 7
        }
    }

    static func fixed(_ b: [UInt8], _ at: inout Int, _ n: Int) throws -> UInt64 {
        guard at + n <= b.count else { throw ProtobufError.truncated(at: at) }
        defer { at += n }
        return (0..<n).reduce(UInt64(0)) { $0 | UInt64(b[at + $1]) << (8 * UInt64($1)) }
    }
}
