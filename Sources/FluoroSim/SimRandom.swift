#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import FluoroSupport

/// Draws the simulator needs, on top of `SplitMix64` (the only source of randomness here).
extension SplitMix64 {
    /// A uniform Float in [a, b).
    mutating func uniform(_ a: Float, _ b: Float) -> Float {
        a + (b - a) * Float(nextUnit())
    }

    /// True with probability p.
    mutating func chance(_ p: Double) -> Bool { nextUnit() < p }

    /// A standard normal draw (Box–Muller; one value per call).
    mutating func normal() -> Float {
        let u = max(nextUnit(), 1e-12), v = nextUnit()
        return Float((-2 * log(u)).squareRoot() * cos(2 * Double.pi * v))
    }

    /// A uniform integer in a..<b (b > a).
    mutating func integer(_ a: Int, _ b: Int) -> Int {
        a + Int(next() % UInt64(max(b - a, 1)))
    }
}
