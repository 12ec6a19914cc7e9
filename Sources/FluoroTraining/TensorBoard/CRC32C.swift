/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) by a 256-entry table, and the masked
/// form TFRecord files store: ((crc >> 15) | (crc << 17)) + 0xa282ead8.
public enum CRC32C {
    /// The table of the reflected polynomial, one entry per byte value.
    static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
        return c
    }

    /// The CRC-32C of `bytes` (initial value and final XOR 0xFFFFFFFF).
    public static func checksum<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }

    /// The checksum as TFRecord stores it: rotated right by 15 bits plus 0xa282ead8.
    public static func masked<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        let crc = checksum(bytes)
        return ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }
}
