import FluoroDistributed
import Testing
@testable import FluoroTraining

@Suite struct ReplicaAgreementTests {
    /// Words survive the split into 16-bit pieces and back, every piece in 0...65535.
    @Test func piecesRoundTrip() {
        let words: [UInt64] = [0, 4, UInt64.max, 0x0123_4567_89AB_CDEF]
        let pieces = ReplicaAgreement.pieces(words)
        #expect(pieces.count == 16 && pieces.allSatisfy { $0 >= 0 && $0 <= 65535 && $0 == $0.rounded() })
        #expect(Array(pieces[12..<16]) == [0xCDEF, 0x89AB, 0x4567, 0x0123])
        #expect(ReplicaAgreement.words(pieces[...]) == words)
    }

    /// One rank always agrees with itself, without any collective.
    @Test func aGroupOfOneAgrees() throws {
        #expect(try ReplicaAgreement.check([1, 2], across: LocalCommunicator()) == nil)
    }

    /// The (Σv, Σv²) test flags pieces that differ between ranks even when their sums match.
    @Test func sumsOfSquaresSeeDifferencesThatSumsHide() {
        // Two ranks with pieces (1, 3) and (3, 1): Σv = 4, 4 on both; Σv² = 10, 10.
        #expect(!DatasetFingerprint.agree(sums: [4, 4, 10, 10], ranks: 2))
        #expect(DatasetFingerprint.agree(sums: [4, 6, 8, 18], ranks: 2))  // (2, 3) on both
    }
}
