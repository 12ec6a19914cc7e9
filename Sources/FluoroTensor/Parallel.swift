import CFluoroKernels
import Foundation

/// How many threads Fluoro's loops and matrix products use, and parallel for-loops over them.
/// Call `configure(threads:)` once at start-up (e.g. with `CoreBudget.defaultThreads`).
public enum Parallel {
    /// Threads for Fluoro's loops and matrix products (1 = run inline). Reads 1 inside `serially`.
    public static var threads: Int {
        get {
            if pthread_getspecific(serialKey) != nil { return 1 }
            if let override = pthread_getspecific(overrideKey) { return Int(bitPattern: override) }
            return configuredThreads
        }
        set {
            configuredThreads = max(1, newValue)
            // Fluoro's threads call sgemm concurrently; OpenBLAS's own threading must then be off
            // (concurrent multi-threaded OpenBLAS calls can spin forever).
            if configuredThreads > 1 { BLASRuntime.setThreads(1) }
        }
    }
    nonisolated(unsafe) static var configuredThreads: Int = 1
    static let serialKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    static let overrideKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// Runs `body` with `threads` reading `n` on this thread only (other threads keep the
    /// configured count): for tests that compare thread counts while other tests run.
    public static func withThreads<T>(_ n: Int, _ body: () throws -> T) rethrows -> T {
        let previous = pthread_getspecific(overrideKey)
        pthread_setspecific(overrideKey, UnsafeRawPointer(bitPattern: max(1, n)))
        if n > 1 { BLASRuntime.setThreads(1) }
        defer { pthread_setspecific(overrideKey, previous) }
        return try body()
    }

    /// Runs `body` with every Parallel loop on this thread inline: for coarse-grained parallel work
    /// (e.g. the two decoders side by side), each branch on one core.
    public static func serially<T>(_ body: () throws -> T) rethrows -> T {
        let previous = pthread_getspecific(serialKey)
        pthread_setspecific(serialKey, UnsafeRawPointer(bitPattern: 1))
        defer { pthread_setspecific(serialKey, previous) }
        return try body()
    }

    /// Uses `n` threads for Fluoro's loops and matrix products (`ParallelGEMM`), and sets OpenBLAS
    /// to one thread so the two never compete for the cores.
    public static func configure(threads n: Int) {
        prepareThread()
        threads = n
        BLASRuntime.setThreads(1)
        WorkerPool.reserve(threads: max(1, n))
    }

    /// Runs `body(i)` for i in 0..<count, spread over `threads` threads when more than one
    /// (each with the caller's `MatrixPrecision`).
    @inlinable
    public static func forEach(_ count: Int, _ body: (Int) -> Void) {
        prepareThread()
        if threads <= 1 || count <= 1 {
            for i in 0..<count { body(i) }
        } else if WorkerPool.run(count, body) {
            return
        } else if let precision = MatrixPrecision.threadOverride {
            // Carry this thread's matrix precision (`MatrixPrecision.with`) to the workers.
            DispatchQueue.concurrentPerform(iterations: count) { i in prepareThread(); MatrixPrecision.withOverride(precision) { body(i) } }
        } else {
            DispatchQueue.concurrentPerform(iterations: count) { i in prepareThread(); body(i) }
        }
    }

    /// Flush-to-zero and denormals-are-zero on this thread (`fk_flush_denormals`): every thread
    /// Fluoro computes on sets them at each parallel loop, so subnormal floats never take the
    /// CPU's slow path and every thread count rounds alike.
    @inlinable
    public static func prepareThread() { fk_flush_denormals() }

    /// Whether this thread flushes subnormals (after `prepareThread`; false where the CPU has no such mode).
    public static var flushesSubnormals: Bool { fk_denormals_flushed() != 0 }

    /// Runs `body(i)` for i in 0..<count on concurrent threads whatever `threads` says (for a few
    /// coarse branches, each usually inside `serially`), carrying the caller's `MatrixPrecision`.
    public static func concurrently(_ count: Int, _ body: (Int) -> Void) {
        prepareThread()
        fk_pool_park()  // the branches need the cores the pool's workers would spin on
        let precision = MatrixPrecision.threadOverride
        DispatchQueue.concurrentPerform(iterations: count) { i in prepareThread(); MatrixPrecision.withOverride(precision) { body(i) } }
    }

    /// Runs `body(range)` over `count` items split into about `threads` contiguous chunks
    /// (never chunks smaller than `minimumChunk` items).
    @inlinable
    public static func chunks(_ count: Int, minimumChunk: Int = 1024, _ body: (Range<Int>) -> Void) {
        prepareThread()
        let parts = min(threads, max(1, count / max(1, minimumChunk)))
        if parts <= 1 { body(0..<count); return }
        if WorkerPool.run(parts, { part in body((count * part / parts)..<(count * (part + 1) / parts)) }) { return }
        let precision = MatrixPrecision.threadOverride
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            prepareThread()
            MatrixPrecision.withOverride(precision) { body((count * part / parts)..<(count * (part + 1) / parts)) }
        }
    }
}
