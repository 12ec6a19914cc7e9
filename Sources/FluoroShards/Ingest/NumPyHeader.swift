import Foundation

/// The header of a NumPy `.npy` file (format versions 1, 2 and 3): the dtype descriptor, the
/// memory order and the shape, parsed from the Python dict literal numpy.save writes, e.g.
/// `{'descr': '<u2', 'fortran_order': False, 'shape': (96, 512, 512), }`.
struct NumPyHeader: Equatable {
    /// "\x93NUMPY".
    static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    /// Dtype descriptor, e.g. "|u1", "<u2", "<f4".
    var descr: String
    /// True for column-major (Fortran) order.
    var fortranOrder: Bool
    /// Array shape.
    var shape: [Int]
    /// Offset of the first data byte.
    var dataOffset: Int

    /// True when `data` starts with the NumPy magic.
    static func looksLikeNumPy(_ data: Data) -> Bool {
        ByteReader(data: data, file: "").matches(magic, at: 0)
    }

    /// Parses the header of `data` (the bytes of `file`).
    init(_ data: Data, file: String) throws {
        var reader = ByteReader(data: data, file: file)
        guard reader.matches(Self.magic, at: 0) else { throw IngestError.unrecognizedFormat(file: file) }
        reader.position = 6
        let version = try reader.take(2, "the .npy version")
        let major = reader.data[version.lowerBound]
        let length: Int
        switch major {
        case 1: length = Int(try reader.uint16("the .npy header length"))
        case 2, 3: length = Int(try reader.uint32("the .npy header length"))
        default: throw IngestError.malformedNumPy(file: file, detail: "unknown format version \(major)")
        }
        let text = reader.data.subdata(in: try reader.take(length, "the .npy header"))
        dataOffset = reader.position
        var parser = PythonLiteralParser(bytes: [UInt8](text))
        guard case .dict(let dict)? = try? parser.parseValue() else {
            throw IngestError.malformedNumPy(file: file, detail: "header is not a Python dict literal: \(String(decoding: text.prefix(120), as: UTF8.self))")
        }
        guard case .string(let descr)? = dict["descr"] else {
            throw IngestError.malformedNumPy(file: file, detail: "header has no 'descr' string (structured dtypes are not supported)")
        }
        guard case .bool(let fortran)? = dict["fortran_order"] else {
            throw IngestError.malformedNumPy(file: file, detail: "header has no 'fortran_order'")
        }
        guard case .tuple(let dims)? = dict["shape"] else { throw IngestError.malformedNumPy(file: file, detail: "header has no 'shape' tuple") }
        var shape: [Int] = []
        for d in dims {
            guard case .int(let n) = d, n >= 0 else { throw IngestError.malformedNumPy(file: file, detail: "shape \(dims) is not a tuple of sizes") }
            shape.append(n)
        }
        self.descr = descr
        self.fortranOrder = fortran
        self.shape = shape
    }
}

/// A Python literal as found in `.npy` headers.
indirect enum PythonLiteral: Equatable {
    case string(String)
    case int(Int)
    case bool(Bool)
    case none
    case tuple([PythonLiteral])
    case dict([String: PythonLiteral])
}

/// Recursive-descent parser for the Python literals of `.npy` headers (dicts, tuples, lists,
/// strings, integers, booleans, None). Throws on anything else.
struct PythonLiteralParser {
    struct Failure: Error {}

    let bytes: [UInt8]
    var position = 0
    var depth = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    private mutating func skipSpace() {
        while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
    }

    private mutating func peek() throws -> UInt8 {
        skipSpace()
        guard position < bytes.count else { throw Failure() }
        return bytes[position]
    }

    /// Parses one value at the cursor.
    mutating func parseValue() throws -> PythonLiteral {
        depth += 1
        defer { depth -= 1 }
        guard depth < 16 else { throw Failure() }
        let c = try peek()
        switch c {
        case UInt8(ascii: "{"):
            position += 1
            var dict: [String: PythonLiteral] = [:]
            while try peek() != UInt8(ascii: "}") {
                guard case .string(let key) = try parseValue(), try peek() == UInt8(ascii: ":") else { throw Failure() }
                position += 1
                dict[key] = try parseValue()
                if try peek() == UInt8(ascii: ",") { position += 1 } else if bytes[position] != UInt8(ascii: "}") { throw Failure() }
            }
            position += 1
            return .dict(dict)
        case UInt8(ascii: "("), UInt8(ascii: "["):
            let close = c == UInt8(ascii: "(") ? UInt8(ascii: ")") : UInt8(ascii: "]")
            position += 1
            var items: [PythonLiteral] = []
            while try peek() != close {
                items.append(try parseValue())
                if try peek() == UInt8(ascii: ",") { position += 1 } else if bytes[position] != close { throw Failure() }
            }
            position += 1
            return .tuple(items)
        case UInt8(ascii: "'"), UInt8(ascii: "\""):
            position += 1
            let start = position
            while position < bytes.count, bytes[position] != c { position += 1 }
            guard position < bytes.count else { throw Failure() }
            defer { position += 1 }
            return .string(String(decoding: bytes[start..<position], as: UTF8.self))
        default:
            let start = position
            while position < bytes.count, bytes[position] == UInt8(ascii: "-") || bytes[position] == UInt8(ascii: "_")
                || (48...57).contains(bytes[position]) || (65...90).contains(bytes[position]) || (97...122).contains(bytes[position]) {
                position += 1
            }
            var word = String(decoding: bytes[start..<position], as: UTF8.self)
            switch word {
            case "True": return .bool(true)
            case "False": return .bool(false)
            case "None": return .none
            default:
                if word.hasSuffix("L") { word.removeLast() }  // Python 2 longs
                guard let n = Int(word) else { throw Failure() }
                return .int(n)
            }
        }
    }
}
