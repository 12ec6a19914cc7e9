import FluoroSupport
import Foundation

/// Ends the process when training stops making progress: a rank that is hung (or waits in a
/// collective for a rank that died without the launcher noticing) would otherwise wait forever.
/// The training loop calls `beat(step:)` every step; if no beat arrives for `timeout` seconds the
/// watchdog logs which rank and step stalled and exits with status 75, which makes `mpirun` end
/// the whole job. Time the process itself did not run (stopped by SIGSTOP or Ctrl-Z, a suspended
/// machine) is not a stall: when the watchdog's own sleep of at most 1 s lasts more than 5 s, it
/// counts from the moment it runs again. (With a timeout under 5 s, a shorter stop still ends the run.)
public final class StallWatchdog: @unchecked Sendable {
    private let timeout: Double
    private let rank: Int
    private let lock = NSLock()
    private var lastBeat = StallWatchdog.now()  // seconds on the monotonic clock
    private var step = 0
    private var stopped = false
    private var paused = false
    private var thread: Thread?

    /// Starts watching; `timeout` in seconds (nil or <= 0 disables it).
    public init(timeout: Double?, rank: Int) {
        self.timeout = timeout ?? 0
        self.rank = rank
        guard self.timeout > 0 else { return }
        let thread = Thread { [weak self] in self?.watch() }
        thread.name = "fluoro-watchdog"
        self.thread = thread
        thread.start()
    }

    /// Records progress.
    public func beat(step: Int) {
        lock.lock()
        lastBeat = Self.now()
        self.step = step
        lock.unlock()
    }

    /// Stops counting until `resume()`: for waits that are expected to be long (a checkpoint being
    /// written by the coordinator while the other ranks wait for it).
    public func pause() {
        lock.lock()
        paused = true
        lock.unlock()
    }

    /// Counts again from now.
    public func resume() {
        lock.lock()
        if paused { paused = false; lastBeat = Self.now() }
        lock.unlock()
    }

    /// Stops watching (at the end of training).
    public func stop() {
        lock.lock()
        stopped = true
        lock.unlock()
    }

    /// Seconds on a monotonic clock: setting the wall clock is neither a stall nor a stop.
    static func now() -> Double { ProcessInfo.processInfo.systemUptime }

    /// A sleep of at most 1 s that lasted longer than this means the process was not running
    /// (stopped or suspended), not busy.
    static let suspendedAfter: Double = 5

    private func watch() {
        let interval = min(1, timeout / 4)
        while true {
            let asleep = Self.now()
            Thread.sleep(forTimeInterval: interval)
            let awake = Self.now()
            lock.lock()
            if awake - asleep > Self.suspendedAfter { lastBeat = awake }
            let (silent, step, stopped, paused) = (awake - lastBeat, self.step, self.stopped, self.paused)
            lock.unlock()
            if stopped { return }
            if paused { continue }
            if silent > timeout {
                Log.error("rank \(rank): no progress for \(Int(silent)) s at step \(step) (--stall-timeout \(Int(timeout))): "
                          + "a rank is hung, dead or starved of data; ending the job. Resume from the last checkpoint with --resume.")
                _exit(75)
            }
        }
    }
}
