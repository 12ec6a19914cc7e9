import Foundation
import Testing
@testable import FluoroShards
import FluoroSupport

@Suite struct XXHash64Tests {
    /// Reference values from Python's `xxhash.xxh64(...).intdigest()`.
    @Test func matchesReferenceVectors() {
        #expect(XXHash64.hash(Data()) == 0xEF46_DB37_51D8_E999)
        #expect(XXHash64.hash(Data("abc".utf8)) == 0x44BC_2CF5_AD77_0999)
        #expect(XXHash64.hash(Data("0123456789abcdef0123456789abcdef!".utf8)) == 0x8AFF_F4DA_AC4E_677E)
        let bytes = Data((0..<768).map { UInt8($0 % 256) })
        #expect(XXHash64.hash(bytes) == 0x8E03_C838_C596_036F)
    }

    @Test func streamingInPiecesEqualsOneShot() {
        let bytes = Data((0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) })
        for pieces in [[1000], [1, 999], [31, 1, 32, 936], [7, 7, 7, 979], [500, 3, 497]] {
            var h = XXHash64()
            var at = 0
            for n in pieces {
                h.update(bytes[at..<(at + n)])
                at += n
            }
            #expect(h.digest() == XXHash64.hash(bytes), "pieces \(pieces)")
        }
    }
}
