import FluoroSupport

/// The FIMAE-SC token mask of one clip (METHOD §4, the reference's `make_masks`).
///
/// Tube mask: `round(tubeRatio * C)` cells hidden, the same cells in every slot. Frame mask:
/// `frameMaskedSlots` slots drawn at random instead hide `round(frameRatio * C)` cells drawn
/// independently. Every clip hides `spec.hiddenTokens` tokens. Token order is
/// n = (t' * Hp + h') * Wp + w', so slot t' owns tokens t'*C ..< (t'+1)*C.
///
/// Draw order from the generator (part of the reproducibility contract): the tube cells
/// (a partial Fisher–Yates shuffle of 0..<C), the frame-masked slots (a partial shuffle of
/// 0..<slots), then one partial shuffle of 0..<C per frame-masked slot in increasing slot order.
public enum TokenMask {
    /// Writes one clip's mask into `mask` (count N = spec.tokenCount; 1 = hidden, 0 = visible).
    public static func draw(spec: ClipSpec, using rng: inout SplitMix64, into mask: UnsafeMutableBufferPointer<UInt8>) {
        let c = spec.cellsPerSlot, slots = spec.slots
        mask.update(repeating: 0)
        let tube = partialShuffle(count: c, take: spec.tubeHiddenCells, using: &rng)
        let framed = partialShuffle(count: slots, take: spec.frameMaskedSlots, using: &rng)
        var isFramed = [Bool](repeating: false, count: slots)
        for slot in framed { isFramed[slot] = true }
        for slot in 0..<slots {
            let cells = isFramed[slot] ? partialShuffle(count: c, take: spec.frameHiddenCells, using: &rng) : tube
            for cell in cells { mask[slot * c + cell] = 1 }
        }
    }

    /// One clip's mask as an array: [N], 1 = hidden.
    public static func draw(spec: ClipSpec, using rng: inout SplitMix64) -> [UInt8] {
        var mask = [UInt8](repeating: 0, count: spec.tokenCount)
        mask.withUnsafeMutableBufferPointer { draw(spec: spec, using: &rng, into: $0) }
        return mask
    }

    /// The first `take` elements of a uniform random permutation of 0..<count.
    static func partialShuffle(count: Int, take: Int, using rng: inout SplitMix64) -> ArraySlice<Int> {
        var items = Array(0..<count)
        let k = min(max(take, 0), count)
        for i in 0..<k {
            let j = i + uniformIndex(below: count - i, using: &rng)
            items.swapAt(i, j)
        }
        return items[0..<k]
    }
}

/// A uniform integer in 0..<bound (bound >= 1) by Lemire's multiply-and-reject method.
/// Written out here, not taken from the standard library, so the sample stream is fixed by
/// this code alone.
@inline(__always)
func uniformIndex(below bound: Int, using rng: inout SplitMix64) -> Int {
    if bound <= 1 { return 0 }
    let range = UInt64(bound)
    var product = rng.next().multipliedFullWidth(by: range)
    if product.low < range {
        let threshold = (0 &- range) % range
        while product.low < threshold { product = rng.next().multipliedFullWidth(by: range) }
    }
    return Int(product.high)
}
