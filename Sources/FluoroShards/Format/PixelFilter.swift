import Foundation

/// A reversible transform applied to a frame's bytes before LZ4 (recorded per stream in the index).
public enum PixelFilter: UInt8, Sendable, Codable {
    /// Bytes stored as they are.
    case none = 0
    /// 16-bit pixels split into byte planes: all low bytes of the frame, then all high bytes.
    /// The high plane of 10–12-bit data is nearly constant and compresses well.
    case shuffle16 = 1

    /// Applies the filter: `source` and `destination` are one frame's bytes (same size, even for shuffle16).
    static func apply(_ filter: PixelFilter, _ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer) {
        switch filter {
        case .none:
            destination.copyMemory(from: source)
        case .shuffle16:
            let n = source.count / 2
            let s = source.bindMemory(to: UInt8.self), d = destination.bindMemory(to: UInt8.self)
            for i in 0..<n {
                d[i] = s[2 * i]
                d[n + i] = s[2 * i + 1]
            }
        }
    }

    /// Undoes the filter: `source` holds filtered bytes, `destination` receives the pixels.
    static func invert(_ filter: PixelFilter, _ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer) {
        switch filter {
        case .none:
            destination.copyMemory(from: source)
        case .shuffle16:
            let n = source.count / 2
            let s = source.bindMemory(to: UInt8.self), d = destination.bindMemory(to: UInt8.self)
            // Two planes back into interleaved little-endian UInt16, 16 pixels per step
            // (the SIMD store is host order; Fluoro's platforms are little endian).
            guard n > 0 else { return }
            let low = UnsafeRawPointer(s.baseAddress!), high = low + n
            let out = UnsafeMutableRawPointer(d.baseAddress!)
            var i = 0
            while i + 16 <= n {
                let l = SIMD16<UInt16>(truncatingIfNeeded: low.loadUnaligned(fromByteOffset: i, as: SIMD16<UInt8>.self))
                let h = SIMD16<UInt16>(truncatingIfNeeded: high.loadUnaligned(fromByteOffset: i, as: SIMD16<UInt8>.self))
                out.storeBytes(of: l | (h &<< 8), toByteOffset: 2 * i, as: SIMD16<UInt16>.self)
                i += 16
            }
            while i < n {
                let v = UInt16(s[i]) | (UInt16(s[n + i]) << 8)
                out.storeBytes(of: v.littleEndian, toByteOffset: 2 * i, as: UInt16.self)
                i += 1
            }
        }
    }
}
