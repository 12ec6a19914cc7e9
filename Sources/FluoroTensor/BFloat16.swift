/// fp32 -> bfloat16 conversion (round to nearest even; NaN stays NaN), vectorised 16 lanes at a time.
public enum BFloat16 {
    public typealias U16x = SIMD16<UInt32>

    /// The bf16 bits of x (round to nearest even).
    @inline(__always) public static func bits(_ x: Float) -> UInt16 {
        let u = x.bitPattern
        if u & 0x7FFF_FFFF > 0x7F80_0000 { return UInt16(truncatingIfNeeded: (u >> 16) | 0x40) }
        return UInt16(truncatingIfNeeded: (u &+ 0x7FFF &+ ((u >> 16) & 1)) >> 16)
    }

    /// x rounded to the nearest bf16, as a Float.
    @inline(__always) public static func round(_ x: Float) -> Float {
        Float(bitPattern: UInt32(bits(x)) << 16)
    }

    /// Converts `count` contiguous floats.
    @inline(__always)
    public static func convert(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<UInt16>, count: Int) {
        var i = 0
        let one = U16x(repeating: 1), bias = U16x(repeating: 0x7FFF), absMask = U16x(repeating: 0x7FFF_FFFF)
        let inf = U16x(repeating: 0x7F80_0000), quiet = U16x(repeating: 0x0040_0000)
        while i + 16 <= count {
            let u = UnsafeRawPointer(src + i).loadUnaligned(as: U16x.self)
            var r = (u &+ bias &+ ((u &>> 16) & one))
            let nan = (u & absMask) .> inf
            r.replace(with: u | quiet, where: nan)
            let h = SIMD16<UInt16>(truncatingIfNeeded: r &>> 16)
            UnsafeMutableRawPointer(dst + i).storeBytes(of: h, as: SIMD16<UInt16>.self)
            i += 16
        }
        while i < count { dst[i] = bits(src[i]); i += 1 }
    }

    /// Converts a [rows, columns] block with row stride `ld` into a dense [rows, columns] bf16 matrix.
    public static func convert(_ src: UnsafePointer<Float>, rows: Int, columns: Int, ld: Int,
                               into dst: UnsafeMutablePointer<UInt16>) {
        if ld == columns { convert(src, dst, count: rows * columns); return }
        for r in 0..<rows { convert(src + r * ld, dst + r * columns, count: columns) }
    }
}
