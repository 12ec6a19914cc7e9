/// SplitMix64: a tiny, fast, seedable generator. Every random choice in Fluoro (data order,
/// masks, initialisation, the simulator) draws from one of these, so runs are reproducible.
public struct SplitMix64: RandomNumberGenerator, Codable, Sendable, Equatable {
    /// The whole state: save it in a checkpoint to resume the stream exactly.
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform double in [0, 1) with 53 random bits.
    public mutating func nextUnit() -> Double {
        Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// A generator for an independent sub-stream, e.g. one per sequence or per sample.
    public static func derived(from seed: UInt64, _ salts: UInt64...) -> SplitMix64 {
        var g = SplitMix64(seed: seed)
        for salt in salts { g = SplitMix64(seed: g.next() ^ (salt &* 0xD1B5_4A32_D192_ED03)) }
        return g
    }
}
