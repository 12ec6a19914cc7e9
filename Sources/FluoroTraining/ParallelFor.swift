import Dispatch
import FluoroTensor

/// Splits `0..<count` into contiguous pieces of at least `minimumChunk` elements and runs
/// `body` on each, on up to `threads` threads (inline when one thread or one piece).
/// The pieces are disjoint, so bodies may write their own slice of shared buffers.
@inline(__always)
func parallelFor(count: Int, threads: Int, minimumChunk: Int = 1 << 15, _ body: (Range<Int>) -> Void) {
    guard count > 0 else { return }
    Parallel.prepareThread()
    let pieces = max(1, min(threads, count / max(1, minimumChunk)))
    if pieces == 1 { body(0..<count); return }
    // Boundaries on multiples of 16 keep the SIMD loops aligned to whole vectors.
    let per = ((count + pieces - 1) / pieces + 15) & ~15
    DispatchQueue.concurrentPerform(iterations: pieces) { i in
        Parallel.prepareThread()
        let lower = min(count, i * per), upper = min(count, lower + per)
        if lower < upper { body(lower..<upper) }
    }
}

/// Reduces over `0..<count` in parallel pieces: `body` returns a partial result per piece,
/// and the partials come back in piece order (so the sum is deterministic for a thread count).
func parallelPartials<T>(count: Int, threads: Int, minimumChunk: Int = 1 << 15, initial: T,
                         _ body: (Range<Int>) -> T) -> [T] {
    guard count > 0 else { return [] }
    Parallel.prepareThread()
    let pieces = max(1, min(threads, count / max(1, minimumChunk)))
    if pieces == 1 { return [body(0..<count)] }
    let per = ((count + pieces - 1) / pieces + 15) & ~15
    var partials = [T](repeating: initial, count: pieces)
    partials.withUnsafeMutableBufferPointer { out in
        let base = out.baseAddress!
        DispatchQueue.concurrentPerform(iterations: pieces) { i in
            Parallel.prepareThread()
            let lower = min(count, i * per), upper = min(count, lower + per)
            base[i] = lower < upper ? body(lower..<upper) : initial
        }
    }
    return partials
}
