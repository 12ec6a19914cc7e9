import Foundation
import FluoroShards
import FluoroSupport

/// The synthetic X-ray simulator (METHOD §12): coronary angiography and fluoroscopy runs with
/// exact labels (vessel mask, catheter mask, vesselness, catheter tip, balloon markers, occlusion).
///
/// A sequence is a pure function of (config, index): every random choice comes from a
/// `SplitMix64` stream derived from (config.seed, index), so output does not depend on threads.
public struct XRaySimulator: Sendable {
    public let config: SimulatorConfig

    public init(config: SimulatorConfig) {
        self.config = config
    }

    /// Sequence `index` (any Int; negative indices are allowed and distinct).
    public func sequence(index: Int) -> FrameSequence {
        SequenceRenderer(scene: Scene(config: usable, index: index), config: usable, index: index).render()
    }

    /// Sequences for every index in `range`, generated on `threads` threads and handed to `body`
    /// on the calling thread in index order. At most 2 × threads sequences wait in memory. If
    /// `body` throws, generation stops and the error is rethrown.
    public func sequences(_ range: Range<Int>, threads: Int, _ body: (FrameSequence) throws -> Void) rethrows {
        let workers = max(1, min(threads, range.count))
        if workers == 1 {
            for i in range { try body(sequence(index: i)) }
            return
        }
        let pipeline = OrderedPipeline(range: range, window: 2 * workers)
        var launched: [Thread] = []
        for _ in 0 ..< workers {
            let thread = Thread { [self] in
                while let i = pipeline.claim() {
                    pipeline.deliver(i, sequence(index: i))
                }
                pipeline.workerFinished()
            }
            thread.stackSize = 8 << 20
            launched.append(thread)
            thread.start()
        }
        defer { pipeline.cancelAndWait(workers: workers) }
        for i in range {
            guard let s = pipeline.take(i) else { break }
            try body(s)
        }
    }

    /// The config with out-of-range settings clamped, so bad input never crashes.
    private var usable: SimulatorConfig {
        var c = config
        c.frames = max(1, c.frames)
        c.size = min(max(c.size, 16), 8192)
        if !(c.frameTimeMs > 0) { c.frameTimeMs = 66.7 }
        c.balloonProbability = min(max(c.balloonProbability, 0), 1)
        if !(c.photonsPerPixel > 0) { c.photonsPerPixel = SimulatorConfig().photonsPerPixel }
        if !(c.occlusionFraction > 0) { c.occlusionFraction = 0.5 }
        return c
    }
}

/// Hands out indices to workers, keeps finished sequences until the consumer takes them in order,
/// and holds workers back when `window` sequences are ahead of the consumer.
final class OrderedPipeline: @unchecked Sendable {
    private let condition = NSCondition()
    private var nextClaim: Int
    private var nextTake: Int
    private let end: Int
    private let window: Int
    private var ready: [Int: FrameSequence] = [:]
    private var cancelled = false
    private var finishedWorkers = 0

    init(range: Range<Int>, window: Int) {
        nextClaim = range.lowerBound
        nextTake = range.lowerBound
        end = range.upperBound
        self.window = window
    }

    /// The next index to generate, or nil when done or cancelled (waits while the window is full).
    func claim() -> Int? {
        condition.lock(); defer { condition.unlock() }
        while !cancelled && nextClaim < end && nextClaim - nextTake >= window { condition.wait() }
        if cancelled || nextClaim >= end { return nil }
        defer { nextClaim += 1 }
        return nextClaim
    }

    func deliver(_ index: Int, _ sequence: FrameSequence) {
        condition.lock()
        ready[index] = sequence
        condition.broadcast()
        condition.unlock()
    }

    /// Waits for sequence `index` (which must be the next in order); nil if cancelled.
    func take(_ index: Int) -> FrameSequence? {
        condition.lock(); defer { condition.unlock() }
        while ready[index] == nil && !cancelled { condition.wait() }
        guard let s = ready.removeValue(forKey: index) else { return nil }
        nextTake = index + 1
        condition.broadcast()
        return s
    }

    func workerFinished() {
        condition.lock()
        finishedWorkers += 1
        condition.broadcast()
        condition.unlock()
    }

    /// Stops handing out work and waits until every worker has returned.
    func cancelAndWait(workers: Int) {
        condition.lock()
        cancelled = true
        condition.broadcast()
        while finishedWorkers < workers { condition.wait() }
        ready.removeAll()
        condition.unlock()
    }
}
