/// Vectorised float math for the hot loops: 8-lane loads and stores, exp, erf and reductions.
/// Accurate to a few float ulps (exp) and 1.5e-7 absolute (erf), far below the parity tolerances.
public enum VectorMath {
    public typealias F8 = SIMD8<Float>

    @inline(__always) public static func load(_ p: UnsafePointer<Float>) -> F8 {
        UnsafeRawPointer(p).loadUnaligned(as: F8.self)
    }

    @inline(__always) public static func store(_ v: F8, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: F8.self)
    }

    /// The first n (< 8) lanes from p, the rest `fill`.
    @inline(__always) public static func loadPartial(_ p: UnsafePointer<Float>, _ n: Int, fill: Float = 0) -> F8 {
        var v = F8(repeating: fill)
        for i in 0..<n { v[i] = p[i] }
        return v
    }

    @inline(__always) public static func storePartial(_ v: F8, _ p: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { p[i] = v[i] }
    }

    /// e^x per lane (Cephes-style: x = n ln2 + r, a degree-6 polynomial for e^r, 2^n from the exponent bits).
    @inline(__always) public static func exp(_ x: F8) -> F8 {
        let lo = F8(repeating: -87.3), hi = F8(repeating: 88.3)
        let x = x.replacing(with: lo, where: x .< lo).replacing(with: hi, where: x .> hi)
        // Round x·log2(e) to the nearest integer with the 1.5·2^23 trick (no SSE4.1 rounding needed).
        let magic = F8(repeating: 12_582_912)
        let t = x * 1.442695040888963 + magic
        let n = t - magic
        let r = x - n * 0.693359375 + n * 2.12194440e-4
        var p = F8(repeating: 1.9875691500e-4)
        p = p * r + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        p = p * (r * r) + r + 1
        let bits = unsafeBitCast(t, to: SIMD8<Int32>.self) &- 0x4B40_0000  // n as an integer
        let scale = unsafeBitCast((bits &+ 127) &<< 23, to: F8.self)        // 2^n
        return p * scale
    }

    /// erf(a) for a >= 0, and the e^{-a²} it computes on the way (Abramowitz & Stegun 7.1.26:
    /// |error| < 1.5e-7, plus float rounding). GELU reuses e^{-a²} for its derivative.
    @inline(__always) public static func erfOfNonNegative(_ a: F8) -> (erf: F8, expMinusSquare: F8) {
        let t = 1 / (1 + 0.3275911 * a)
        var p = F8(repeating: 1.061405429)
        p = p * t - 1.453152027
        p = p * t + 1.421413741
        p = p * t - 0.284496736
        p = p * t + 0.254829592
        let e = VectorMath.exp(-(a * a))
        return (1 - p * t * e, e)
    }

    /// erf(x) per lane (Abramowitz & Stegun 7.1.26: |error| < 1.5e-7, plus float rounding).
    @inline(__always) public static func erf(_ x: F8) -> F8 {
        let y = erfOfNonNegative(x.replacing(with: -x, where: x .< 0)).erf
        return y.replacing(with: -y, where: x .< 0)
    }

    /// log(1 + y) per lane for y in [0, 1]: 2 atanh(s) with s = y / (2 + y) ≤ 1/3, as the odd series
    /// s + s³/3 + … + s¹³/13 (truncation < 2e-8; no branches or lane blends).
    @inline(__always) public static func log1pUnit(_ y: F8) -> F8 {
        let s = y / (F8(repeating: 2) + y)
        let z = s * s
        var p = F8(repeating: 1.0 / 13)
        p = p * z + F8(repeating: 1.0 / 11)
        p = p * z + F8(repeating: 1.0 / 9)
        p = p * z + F8(repeating: 1.0 / 7)
        p = p * z + F8(repeating: 1.0 / 5)
        p = p * z + F8(repeating: 1.0 / 3)
        p = p * z + F8(repeating: 1)
        return F8(repeating: 2) * s * p
    }

    /// Lane-wise maximum (inlined; the standard library's `pointwiseMax` is not on this target).
    @inline(__always) public static func max(_ a: F8, _ b: F8) -> F8 { a.replacing(with: b, where: b .> a) }

    /// Σ x[i] for i in 0..<n.
    @inline(__always) public static func sum(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = F8(), i = 0
        while i + 8 <= n { acc += load(x + i); i += 8 }
        var s = acc.sum()
        while i < n { s += x[i]; i += 1 }
        return s
    }

    /// Σ x[i] y[i] for i in 0..<n.
    @inline(__always) public static func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = F8(), i = 0
        while i + 8 <= n { acc += load(x + i) * load(y + i); i += 8 }
        var s = acc.sum()
        while i < n { s += x[i] * y[i]; i += 1 }
        return s
    }

    /// y[i] += a · x[i] for i in 0..<n.
    @inline(__always) public static func axpy(_ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        var i = 0
        while i + 8 <= n { store(load(y + i) + a * load(x + i), y + i); i += 8 }
        while i < n { y[i] += a * x[i]; i += 1 }
    }
}
