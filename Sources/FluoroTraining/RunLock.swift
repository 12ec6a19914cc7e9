import FluoroSupport
import Foundation

/// Why a run directory could not be locked, naming the holder and what to do.
public enum RunLockError: Error, CustomStringConvertible {
    case held(lock: String, pid: Int32, host: String, since: String)
    case unreadable(lock: String, reason: String)

    public var description: String {
        switch self {
        case let .held(lock, pid, host, since):
            return "another fluoro (pid \(pid) on \(host), since \(since)) is using this run directory (\(lock)); "
                + "wait for it to end or stop it, or choose another --run. If that process is gone (e.g. its node died), remove \(lock)"
        case let .unreadable(lock, reason):
            return "the run directory's lock \(lock) cannot be used (\(reason)); if no other fluoro uses this run, remove \(lock)"
        }
    }
}

/// An exclusive claim on a run directory (`<run>/LOCK`, JSON naming the holder's pid, host and
/// start time), so two jobs never interleave checkpoints and metrics in one run. Created with
/// O_EXCL; a lock left by a process that is no longer alive on this host is taken over. The
/// coordinator holds it for the whole run and removes it at the end.
public final class RunLock {
    /// `<run>/LOCK`.
    public let url: URL
    private let pid = getpid()
    private var released = false

    /// The lock file's name in the run directory.
    public static let fileName = "LOCK"

    private init(url: URL) { self.url = url }

    /// Takes the lock of `runDirectory` (creating the directory), or throws naming the holder.
    public static func acquire(runDirectory: URL) throws -> RunLock {
        try FileManager.default.createDirectory(at: runDirectory, withIntermediateDirectories: true)
        let url = runDirectory.appendingPathComponent(fileName)
        for _ in 0..<2 {
            if try create(url) { return RunLock(url: url) }
            let holder = try Holder.read(url)
            guard holder.host == Holder.thisHost, !holder.isAlive else {
                throw RunLockError.held(lock: url.path, pid: holder.pid, host: holder.host, since: holder.since)
            }
            Log.info("taking over \(url.path): its holder, pid \(holder.pid) on \(holder.host), is no longer running")
            try? FileManager.default.removeItem(at: url)
        }
        throw RunLockError.unreadable(lock: url.path, reason: "another process took it over at the same time")
    }

    /// Removes the lock (if it is still this process's).
    public func release() {
        guard !released else { return }
        released = true
        if let holder = try? Holder.read(url), holder.pid == pid, holder.host == Holder.thisHost {
            try? FileManager.default.removeItem(at: url)
        }
    }

    deinit { release() }

    /// Creates the lock file exclusively with this process as holder; false when it exists.
    private static func create(_ url: URL) throws -> Bool {
        let fd = open(url.path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        if fd < 0 {
            if errno == EEXIST { return false }
            throw RunLockError.unreadable(lock: url.path, reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        let me = Holder(pid: getpid(), host: Holder.thisHost, since: ISO8601DateFormatter().string(from: Date()))
        let bytes = try JSONEncoder().encode(me)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw RunLockError.unreadable(lock: url.path, reason: "short write") }
        return true
    }

    /// Who holds a lock.
    struct Holder: Codable {
        var pid: Int32
        var host: String
        var since: String

        static var thisHost: String { ProcessInfo.processInfo.hostName }

        static func read(_ url: URL) throws -> Holder {
            guard let data = try? Data(contentsOf: url), let holder = try? JSONDecoder().decode(Holder.self, from: data) else {
                throw RunLockError.unreadable(lock: url.path, reason: "it does not name a holder")
            }
            return holder
        }

        /// True unless the process is known to be gone (kill(pid, 0) says ESRCH).
        var isAlive: Bool { kill(pid, 0) == 0 || errno != ESRCH }
    }
}
