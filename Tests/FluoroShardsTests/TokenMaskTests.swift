import FluoroSupport
import Testing
@testable import FluoroShards

/// METHOD §4 masks: tube cells shared by the non-frame slots, F frame-masked slots, fixed counts.
@Suite struct TokenMaskTests {
    /// Rounding is Python's round(): ties to even.
    @Test func ratiosRoundHalfToEven() {
        var spec = ClipSpec(frames: 16, size: 8, tubelet: 2, patch: 4)  // C = 4
        spec.tubeRatio = 0.625  // 2.5 -> 2
        spec.frameRatio = 0.875  // 3.5 -> 4
        #expect(spec.tubeHiddenCells == 2)
        #expect(spec.frameHiddenCells == 4)
        let bench = ClipSpec.bench  // C = 64: 48 and round(62.72) = 63
        #expect(bench.cellsPerSlot == 64 && bench.slots == 8 && bench.tokenCount == 512)
        #expect(bench.tubeHiddenCells == 48)
        #expect(bench.frameHiddenCells == 63)
        #expect(bench.hiddenTokens == 6 * 48 + 2 * 63)
    }

    /// Every clip: F slots hide round(0.98 C) cells, the others share one set of round(0.75 C) cells.
    @Test(arguments: [ClipSpec.bench, LoaderFixtures.spec, ClipSpec(frames: 8, size: 48, tubelet: 2, patch: 8, frameMaskedSlots: 3)])
    func maskStructure(spec: ClipSpec) {
        let c = spec.cellsPerSlot
        var frameSlotHistogram = [Int](repeating: 0, count: spec.slots)
        var tubeSets = Set<[Int]>()
        for clip in 0..<200 {
            var rng = SplitMix64.derived(from: 99, UInt64(clip))
            let mask = TokenMask.draw(spec: spec, using: &rng)
            #expect(mask.count == spec.tokenCount)
            #expect(mask.reduce(0) { $0 + Int($1) } == spec.hiddenTokens)
            var tube: [Int]?
            var framed = 0
            for slot in 0..<spec.slots {
                let cells = (0..<c).filter { mask[slot * c + $0] == 1 }
                if cells.count == spec.frameHiddenCells && spec.frameHiddenCells != spec.tubeHiddenCells {
                    framed += 1
                    frameSlotHistogram[slot] += 1
                } else {
                    #expect(cells.count == spec.tubeHiddenCells)
                    if let tube { #expect(cells == tube) } else { tube = cells }
                }
            }
            #expect(framed == spec.frameMaskedSlots)
            if let tube { tubeSets.insert(tube) }
        }
        // Both the tube cells and the frame-masked slots vary from clip to clip.
        #expect(tubeSets.count > 100)
        #expect(frameSlotHistogram.allSatisfy { $0 > 0 })
    }

    /// The partial shuffle draws distinct indices uniformly enough to reach every one.
    @Test func partialShuffleDrawsDistinctIndices() {
        var rng = SplitMix64(seed: 1)
        var hits = [Int](repeating: 0, count: 10)
        for _ in 0..<500 {
            let drawn = TokenMask.partialShuffle(count: 10, take: 3, using: &rng)
            #expect(Set(drawn).count == 3)
            for i in drawn { hits[i] += 1 }
        }
        #expect(hits.allSatisfy { $0 > 100 && $0 < 200 })  // expected 150 each
    }
}
