import CFluoroKernels

/// `Parallel`'s loops on CFluoroKernels' persistent worker threads (`fk_pool_run`): workers spin
/// briefly between loops instead of parking, so a worker still spinning takes the next loop
/// without being woken — GCD's `concurrentPerform` spent 25-36 us per loop waking one
/// (launch/bench-loop-handoff.swift, docs/BENCHMARKS.md stop 22). Used when the pool has exactly
/// `Parallel.threads - 1` workers (`Parallel.configure` starts them); otherwise, or for a loop
/// started inside a loop, the caller falls back to GCD.
@usableFromInline
enum WorkerPool {
    struct Context {
        let body: (Int) -> Void
        let precision: UnsafeMutableRawPointer?
    }

    /// Starts workers so the pool has `threads - 1`.
    static func reserve(threads: Int) { fk_pool_reserve(Int32(max(0, threads - 1))) }

    /// Runs body(i) for i in 0..<count on this thread and the workers (each with this thread's
    /// `MatrixPrecision`); false, running nothing, when the pool cannot take the loop.
    @usableFromInline
    static func run(_ count: Int, _ body: (Int) -> Void) -> Bool {
        guard Int(fk_pool_workers()) == Parallel.threads - 1 else { return false }
        return withoutActuallyEscaping(body) { body in
            var context = Context(body: body, precision: MatrixPrecision.threadOverride)
            return withUnsafeMutablePointer(to: &context) { pointer in
                fk_pool_run(count, { raw, index in
                    // Flush-to-zero is already set: workers set it when they start, the caller in forEach/chunks.
                    let context = raw!.assumingMemoryBound(to: Context.self).pointee
                    MatrixPrecision.withOverride(context.precision) { context.body(index) }
                }, pointer) != 0
            }
        }
    }
}
