import Foundation

/// A protocol-buffers wire-format encoder for the few field types TensorBoard events use:
/// varints (wire type 0), 64-bit (1), length-delimited (2) and 32-bit (5) fields.
public struct ProtobufWriter {
    /// The encoded message so far.
    public private(set) var data = Data()

    public init() {}

    /// A base-128 varint, least significant group first.
    public mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            data.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        data.append(UInt8(v))
    }

    /// A field key: (number << 3) | wire type.
    mutating func key(_ field: Int, wireType: UInt64) { varint(UInt64(field) << 3 | wireType) }

    /// An int64 field (negative values take ten bytes, as protobuf specifies).
    public mutating func int64(_ field: Int, _ value: Int64) {
        key(field, wireType: 0)
        varint(UInt64(bitPattern: value))
    }

    /// A double field (8 bytes little-endian).
    public mutating func double(_ field: Int, _ value: Double) {
        key(field, wireType: 1)
        TFRecord.appendLittleEndian(value.bitPattern, to: &data)
    }

    /// A float field (4 bytes little-endian).
    public mutating func float(_ field: Int, _ value: Float) {
        key(field, wireType: 5)
        TFRecord.appendLittleEndian(value.bitPattern, to: &data)
    }

    /// A bytes field.
    public mutating func bytes(_ field: Int, _ value: Data) {
        key(field, wireType: 2)
        varint(UInt64(value.count))
        data.append(value)
    }

    /// A string field (UTF-8).
    public mutating func string(_ field: Int, _ value: String) { bytes(field, Data(value.utf8)) }

    /// An embedded message field.
    public mutating func message(_ field: Int, _ build: (inout ProtobufWriter) -> Void) {
        var inner = ProtobufWriter()
        build(&inner)
        bytes(field, inner.data)
    }
}
