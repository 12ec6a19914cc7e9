import FluoroDistributed
import Foundation
import Testing
@testable import FluoroTraining

/// Ranks compare the full dataset fingerprint (issue 10, item 17).
@Suite struct DatasetFingerprintTests {
    /// Rank 0 of a two-rank group whose other rank holds `other`: the all-reduce adds its values.
    final class TwoRanks: Communicator {
        let other: [Double]
        init(other: DatasetFingerprint) { self.other = other.bytes + other.bytes.map { $0 * $0 } }
        var rank: Int { 0 }
        var size: Int { 2 }
        func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws {}
        func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) throws {
            for i in buffer.indices { buffer[i] += other[i] }
        }
        func barrier() throws {}
        func abort(code: Int32) -> Never { exit(code) }
    }

    static func fingerprint(_ hash: UInt64, sequences: Int) throws -> DatasetFingerprint {
        var f = try JSONDecoder().decode(DatasetFingerprint.self, from: Data(#"{"sequences": 0, "hash": "0"}"#.utf8))
        f.hash = String(format: "%016llx", hash)
        f.sequences = sequences
        return f
    }

    @Test func everyBitOfTheHashAndCountIsCompared() throws {
        let mine = try Self.fingerprint(0x0123_4567_89ab_cdef, sequences: 100)
        try mine.checkSame(across: TwoRanks(other: mine), shards: "d")
        // A hash the old check (hash ^ count) mod 1_048_573 could not tell apart, one differing in
        // the top bit, and a different count.
        let collides: UInt64 = ((0x0123_4567_89ab_cdef ^ 100) + 1_048_573) ^ 100
        let others = [try Self.fingerprint(collides, sequences: 100),
                      try Self.fingerprint(0x8123_4567_89ab_cdef, sequences: 100),
                      try Self.fingerprint(0x0123_4567_89ab_cdef, sequences: 100 + 256)]
        for other in others {
            #expect(throws: TrainingError.self) { try mine.checkSame(across: TwoRanks(other: other), shards: "d") }
        }
    }

    @Test func agreementIsExactForManyRanks() {
        let ranks = 1 << 17
        let same = [255.0 * Double(ranks), 255.0 * 255.0 * Double(ranks)]
        #expect(DatasetFingerprint.agree(sums: same, ranks: ranks))
        let oneOff = [255.0 * Double(ranks) - 1, 255.0 * 255.0 * Double(ranks) - 255 * 255 + 254 * 254]
        #expect(!DatasetFingerprint.agree(sums: oneOff, ranks: ranks))
    }
}
