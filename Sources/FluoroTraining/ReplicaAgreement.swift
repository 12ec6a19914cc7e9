import FluoroDistributed

/// Whether every rank holds the same few 64-bit words (a step, a content hash), compared with
/// nothing but the communicator's sum: each word is split into four 16-bit pieces v, and one
/// all-reduce of (v, v²) tells whether all ranks agree (n·Σv² = (Σv)² exactly when every v is the
/// same; both sides are exact integers in a Double for up to 1,448 ranks). Only when they do not
/// agree (or with more ranks) does a second all-reduce gather every rank's words — each rank
/// writes its pieces into its own slot of a zero vector — to name the ranks that differ.
public enum ReplicaAgreement {
    /// Ranks for which the (v, v²) test is exact: n²·65535² < 2^53.
    static let exactRanks = 1448

    /// Ranks whose words differ from rank 0's, and every rank's words.
    public struct Disagreement: Equatable, Sendable {
        /// The ranks that differ from rank 0, ascending (never empty).
        public var ranks: [Int]
        /// Every rank's words, by rank.
        public var words: [[UInt64]]
    }

    /// The words as 16-bit pieces, lowest first, each a Double in 0...65535.
    static func pieces(_ words: [UInt64]) -> [Double] {
        words.flatMap { w in (0..<4).map { Double((w >> (16 * UInt64($0))) & 0xFFFF) } }
    }

    /// The words back from their pieces.
    static func words(_ pieces: ArraySlice<Double>) -> [UInt64] {
        stride(from: pieces.startIndex, to: pieces.endIndex, by: 4).map { start in
            (0..<4).reduce(UInt64(0)) { $0 | UInt64(pieces[start + $1]) << (16 * UInt64($1)) }
        }
    }

    /// nil when every rank of `communicator` holds the same `words` (the same count on every
    /// rank), else who differs. Collective: every rank must call it at the same point.
    public static func check(_ words: [UInt64], across communicator: Communicator) throws -> Disagreement? {
        guard communicator.size > 1 else { return nil }
        let v = pieces(words)
        if communicator.size <= exactRanks {
            var sums = v + v.map { $0 * $0 }
            try communicator.allReduceSum(&sums)
            if DatasetFingerprint.agree(sums: sums, ranks: communicator.size) { return nil }
        }
        return try gather(v, across: communicator)
    }

    /// Every rank's pieces through one sum (each rank fills only its own slot), compared with rank 0's.
    static func gather(_ v: [Double], across communicator: Communicator) throws -> Disagreement? {
        let k = v.count, n = communicator.size
        var all = [Double](repeating: 0, count: n * k)
        all.replaceSubrange(communicator.rank * k..<(communicator.rank + 1) * k, with: v)
        try communicator.allReduceSum(&all)
        let byRank = (0..<n).map { words(all[$0 * k..<($0 + 1) * k]) }
        let differ = (1..<n).filter { byRank[$0] != byRank[0] }
        return differ.isEmpty ? nil : Disagreement(ranks: differ, words: byRank)
    }
}
