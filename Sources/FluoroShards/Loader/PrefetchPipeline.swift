import Foundation

/// A bounded, ordered prefetch queue: worker threads build steps 0, 1, 2, ... (each a pure
/// function of the step number) and the consumer takes them strictly in order.
///
/// Invariant: steps claimed but not yet taken (in flight plus ready) never exceed `depth`. After
/// a step fails, workers claim nothing more; the failure reaches the consumer when it takes that
/// step. `stop()` wakes everyone, lets each worker finish the step it is building, and returns
/// once every worker has exited, so no thread outlives the loader and nothing blocks forever.
final class Pipeline: @unchecked Sendable {
    private let depth: Int
    private let work: @Sendable (Int) throws -> ClipBatch
    private let condition = NSCondition()
    // Guarded by `condition`:
    private var claimed = 0
    private var taken = 0
    private var ready: [Int: Result<ClipBatch, Error>] = [:]
    private var stopping = false
    private var failed = false
    private var running = 0
    private var inline = false

    init(depth: Int, work: @escaping @Sendable (Int) throws -> ClipBatch) {
        self.depth = depth
        self.work = work
    }

    /// Starts `workers` threads; with 0, `take` builds each step on the caller's thread.
    func start(workers: Int) {
        condition.lock()
        inline = workers == 0
        running = workers
        condition.unlock()
        for index in 0..<workers {
            let thread = Thread { [self] in run() }
            thread.name = "fluoro-loader-\(index)"
            thread.start()
        }
    }

    private func run() {
        condition.lock()
        while true {
            while !stopping && !failed && claimed - taken >= depth { condition.wait() }
            if stopping || failed { break }
            let step = claimed
            claimed += 1
            condition.unlock()
            let result = Result { try work(step) }
            condition.lock()
            if case .failure = result { failed = true }
            ready[step] = result
            condition.broadcast()
        }
        running -= 1
        condition.broadcast()
        condition.unlock()
    }

    /// Step `step`'s batch, waiting for a worker if needed; steps must be taken in order.
    func take(step: Int) throws -> ClipBatch {
        condition.lock()
        if inline {
            let stopped = stopping
            condition.unlock()
            if stopped { throw ClipLoaderError.closed }
            return try work(step)
        }
        defer { condition.unlock() }
        while ready[step] == nil && !stopping && running > 0 { condition.wait() }
        guard let result = ready.removeValue(forKey: step) else { throw ClipLoaderError.closed }
        taken = step + 1
        condition.broadcast()
        return try result.get()
    }

    /// Stops claiming new steps and waits until every worker has exited.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while running > 0 { condition.wait() }
        ready.removeAll()
        condition.unlock()
    }
}
