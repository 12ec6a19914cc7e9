import Foundation

/// Errors reading or writing a safetensors file, naming the file and the tensor.
public enum SafetensorsError: Error, CustomStringConvertible {
    case malformed(file: String, reason: String)
    case missingTensor(file: String, name: String)
    case unsupportedType(file: String, name: String, dtype: String)
    case shapeMismatch(file: String, name: String, expected: [Int], found: [Int])

    public var description: String {
        switch self {
        case let .malformed(file, reason): return "\(file) is not a valid safetensors file: \(reason)"
        case let .missingTensor(file, name): return "\(file) has no tensor '\(name)'"
        case let .unsupportedType(file, name, dtype): return "\(file): tensor '\(name)' has dtype \(dtype); Fluoro reads F32, F64, U8, I32, I64"
        case let .shapeMismatch(file, name, expected, found): return "\(file): tensor '\(name)' has shape \(found), expected \(expected)"
        }
    }
}

/// The safetensors format (https://huggingface.co/docs/safetensors): an 8-byte little-endian
/// header length, a JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {..}}, then
/// the raw little-endian tensor bytes. Fluoro reads and writes it for fixtures, checkpoints and export.
public struct SafetensorsFile {
    /// One tensor's entry in the header.
    public struct Entry: Equatable, Sendable {
        public var dtype: String
        public var shape: [Int]
        /// Byte range inside the data section.
        public var range: Range<Int>
    }

    /// Free-form string metadata (`__metadata__`).
    public var metadata: [String: String]
    /// Tensor entries by name.
    public var entries: [String: Entry]
    /// The data section.
    public var data: Data
    /// Where it was read from (for error messages).
    public var path: String

    /// Reads a whole file.
    public init(contentsOf url: URL) throws {
        let bytes: Data
        do { bytes = try Data(contentsOf: url, options: .mappedIfSafe) } catch {
            throw SafetensorsError.malformed(file: url.path, reason: "cannot read (\(error.localizedDescription))")
        }
        try self.init(bytes: bytes, path: url.path)
    }

    /// Parses safetensors bytes.
    public init(bytes: Data, path: String = "<memory>") throws {
        self.path = path
        guard bytes.count >= 8 else { throw SafetensorsError.malformed(file: path, reason: "shorter than its 8-byte header length") }
        let headerLength = bytes.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= UInt64(bytes.count - 8) else {
            throw SafetensorsError.malformed(file: path, reason: "header length \(headerLength) exceeds the file (\(bytes.count) bytes): truncated?")
        }
        let start = bytes.startIndex
        let headerData = bytes[(start + 8)..<(start + 8 + Int(headerLength))]
        guard let header = try? JSONSerialization.jsonObject(with: headerData) as? [String: Any] else {
            throw SafetensorsError.malformed(file: path, reason: "header is not a JSON object")
        }
        data = bytes[(start + 8 + Int(headerLength))...]
        metadata = (header["__metadata__"] as? [String: String]) ?? [:]
        entries = [:]
        for (name, value) in header where name != "__metadata__" {
            guard let object = value as? [String: Any], let dtype = object["dtype"] as? String,
                  let shape = object["shape"] as? [Int], let offsets = object["data_offsets"] as? [Int], offsets.count == 2,
                  offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= data.count else {
                throw SafetensorsError.malformed(file: path, reason: "bad header entry for '\(name)'")
            }
            var elements = 1, overflow = shape.contains { $0 < 0 }
            for dimension in shape where !overflow {
                (elements, overflow) = elements.multipliedReportingOverflow(by: dimension)
            }
            let (bytes, bytesOverflow) = elements.multipliedReportingOverflow(by: Self.byteSize(of: dtype) ?? 1)
            guard !overflow && !bytesOverflow else {
                throw SafetensorsError.malformed(file: path, reason: "'\(name)' has an impossible shape \(shape)")
            }
            guard Self.byteSize(of: dtype) != nil, bytes == offsets[1] - offsets[0] else {
                if Self.byteSize(of: dtype) == nil { throw SafetensorsError.unsupportedType(file: path, name: name, dtype: dtype) }
                throw SafetensorsError.malformed(file: path, reason: "'\(name)' has \(offsets[1] - offsets[0]) bytes for shape \(shape)")
            }
            entries[name] = Entry(dtype: dtype, shape: shape, range: offsets[0]..<offsets[1])
        }
    }

    static func byteSize(of dtype: String) -> Int? {
        switch dtype {
        case "F32", "I32": return 4
        case "F64", "I64": return 8
        case "U8", "BOOL": return 1
        default: return nil
        }
    }

    /// The entry for `name`, or an error naming the file.
    public func entry(_ name: String) throws -> Entry {
        guard let entry = entries[name] else { throw SafetensorsError.missingTensor(file: path, name: name) }
        return entry
    }

    /// A tensor as floats (F32 as is; F64, U8, I32 and I64 converted).
    public func floats(_ name: String) throws -> [Float] {
        let e = try entry(name)
        let raw = data[(data.startIndex + e.range.lowerBound)..<(data.startIndex + e.range.upperBound)]
        let n = e.shape.reduce(1, *)
        return raw.withUnsafeBytes { buf -> [Float] in
            switch e.dtype {
            case "F32": return (0..<n).map { Float(bitPattern: buf.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self).littleEndian) }
            case "F64": return (0..<n).map { Float(Double(bitPattern: buf.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self).littleEndian)) }
            case "I32": return (0..<n).map { Float(Int32(littleEndian: buf.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self))) }
            case "I64": return (0..<n).map { Float(Int64(littleEndian: buf.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self))) }
            default: return (0..<n).map { Float(buf[$0]) }
            }
        }
    }

    /// Copies an F32 tensor of `shape` straight into `destination` (no intermediate array: a
    /// checkpoint's moments are GBs at the base model's size).
    public func copyFloats(_ name: String, shape: [Int], into destination: UnsafeMutableBufferPointer<Float>) throws {
        let e = try entry(name)
        guard e.shape == shape else { throw SafetensorsError.shapeMismatch(file: path, name: name, expected: shape, found: e.shape) }
        guard e.dtype == "F32" else { throw SafetensorsError.unsupportedType(file: path, name: name, dtype: e.dtype) }
        precondition(destination.count == e.range.count / 4, "copyFloats: \(name) has \(e.range.count / 4) values for \(destination.count)")
        data.withUnsafeBytes { raw in
            // Raw bytes into the floats' memory (little-endian hosts, as every platform Fluoro runs on).
            UnsafeMutableRawBufferPointer(destination).copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[e.range]))
        }
    }

    /// A tensor as floats, checking its shape.
    public func floats(_ name: String, shape: [Int]) throws -> [Float] {
        let e = try entry(name)
        guard e.shape == shape else { throw SafetensorsError.shapeMismatch(file: path, name: name, expected: shape, found: e.shape) }
        return try floats(name)
    }

    /// A U8/BOOL tensor's bytes.
    public func bytes(_ name: String) throws -> [UInt8] {
        let e = try entry(name)
        guard e.dtype == "U8" || e.dtype == "BOOL" else { throw SafetensorsError.unsupportedType(file: path, name: name, dtype: e.dtype) }
        return [UInt8](data[(data.startIndex + e.range.lowerBound)..<(data.startIndex + e.range.upperBound)])
    }
}

/// Builds a safetensors file from named tensors, in insertion order.
public struct SafetensorsWriter {
    private var header: [(String, String, [Int], Int)] = []  // name, dtype, shape, byte count
    private var body = Data()
    /// String metadata stored under `__metadata__`.
    public var metadata: [String: String] = [:]

    public init(metadata: [String: String] = [:]) { self.metadata = metadata }

    /// Adds an F32 tensor; `values.count` must equal the product of `shape`.
    public mutating func add(_ name: String, shape: [Int], floats values: UnsafeBufferPointer<Float>) {
        precondition(values.count == shape.reduce(1, *), "safetensors: \(name) has \(values.count) values for shape \(shape)")
        header.append((name, "F32", shape, values.count * 4))
        body.append(contentsOf: UnsafeRawBufferPointer(values))  // the floats' bytes, read as raw memory
    }

    /// Adds an F32 tensor from an array.
    public mutating func add(_ name: String, shape: [Int], floats values: [Float]) {
        values.withUnsafeBufferPointer { add(name, shape: shape, floats: $0) }
    }

    /// Adds a U8 tensor.
    public mutating func add(_ name: String, shape: [Int], bytes values: [UInt8]) {
        precondition(values.count == shape.reduce(1, *), "safetensors: \(name) has \(values.count) values for shape \(shape)")
        header.append((name, "U8", shape, values.count))
        body.append(contentsOf: values)
    }

    /// The encoded file.
    public func encoded() throws -> Data {
        var out = try SafetensorsHeader.encode(header.map { ($0.0, $0.1, $0.2, $0.3) }, metadata: metadata)
        out.append(body)
        return out
    }
}

/// The start of a safetensors file: the 8-byte little-endian header length and the JSON header
/// (entries with byte offsets in the given order, keys sorted, padded with spaces so the data
/// starts 8-byte aligned). Shared by `SafetensorsWriter` and `SafetensorsStream`.
enum SafetensorsHeader {
    /// `tensors`: (name, dtype, shape, byte count) in data order.
    static func encode(_ tensors: [(name: String, dtype: String, shape: [Int], bytes: Int)], metadata: [String: String]) throws -> Data {
        var object: [String: Any] = [:]
        var offset = 0
        for t in tensors {
            object[t.name] = ["dtype": t.dtype, "shape": t.shape, "data_offsets": [offset, offset + t.bytes]] as [String: Any]
            offset += t.bytes
        }
        if !metadata.isEmpty { object["__metadata__"] = metadata }
        var json = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        while (8 + json.count) % 8 != 0 { json.append(0x20) }
        var out = Data()
        var length = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &length) { out.append(contentsOf: $0) }
        out.append(json)
        return out
    }
}
