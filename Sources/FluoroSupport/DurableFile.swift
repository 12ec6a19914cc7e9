import Foundation

/// Errors writing files durably, naming the path and the system error.
public enum DurableFileError: Error, CustomStringConvertible {
    case io(path: String, operation: String, errno: Int32)

    public var description: String {
        switch self {
        case let .io(path, operation, code):
            let reason = String(cString: strerror(code))
            let hint = code == ENOSPC || code == EDQUOT ? " — the disk is full; free space or point the run elsewhere" : ""
            return "\(operation) \(path) failed: \(reason)\(hint)"
        }
    }

    /// True when the cause was a full disk or quota.
    public var isDiskFull: Bool {
        if case let .io(_, _, code) = self { return code == ENOSPC || code == EDQUOT }
        return false
    }
}

/// Crash-safe file writing: data goes to a temporary name, is fsynced, renamed into place and
/// the directory fsynced, so a reader sees the old file or the new one, never half of one.
public enum DurableFile {
    /// A byte budget after which writes fail with ENOSPC, for tests of a full disk.
    public final class SimulatedDisk: @unchecked Sendable {
        private let lock = NSLock()
        private var free: Int
        /// A disk with `freeBytes` bytes left.
        public init(freeBytes: Int) { free = freeBytes }

        /// Bytes left before writes fail.
        public var freeBytes: Int {
            lock.lock()
            defer { lock.unlock() }
            return max(0, free)
        }

        /// Takes up to `wanted` bytes of the budget; nil when it is exhausted.
        func take(_ wanted: Int) -> Int? {
            lock.lock()
            defer { lock.unlock() }
            guard free > 0 else { return nil }
            let granted = min(wanted, free)
            free -= granted
            return granted
        }
    }

    /// The simulated disk of the current task (nil = the real one). Scoped with
    /// `withSimulatedFreeBytes`, so a test's full disk is never seen by tests running beside it.
    @TaskLocal public static var simulatedDisk: SimulatedDisk?

    /// Runs `body` with writes from this task failing with ENOSPC after `bytes` bytes.
    public static func withSimulatedFreeBytes<T>(_ bytes: Int, _ body: () throws -> T) rethrows -> T {
        try withSimulatedDisk(SimulatedDisk(freeBytes: bytes), body)
    }

    /// Runs `body` with writes from this task taking their bytes from `disk` (to read what is left after).
    public static func withSimulatedDisk<T>(_ disk: SimulatedDisk, _ body: () throws -> T) rethrows -> T {
        try $simulatedDisk.withValue(disk, operation: body)
    }

    /// Writes `data` to `url` atomically and durably.
    public static func write(_ data: Data, to url: URL) throws {
        let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        do {
            try writeSynced(data, to: tmp)
            try rename(tmp, to: url)
        } catch {
            unlink(tmp.path)
            throw error
        }
    }

    /// Writes `data` to a new file at `url` and fsyncs it (no rename).
    public static func writeSynced(_ data: Data, to url: URL) throws {
        let fd = open(url.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw DurableFileError.io(path: url.path, operation: "create", errno: errno) }
        defer { close(fd) }
        try data.withUnsafeBytes { try writeAll(fd: fd, $0, path: url.path) }
        guard fsync(fd) == 0 else { throw DurableFileError.io(path: url.path, operation: "fsync", errno: errno) }
    }

    /// Creates the file at `url`, lets `produce` write it piece by piece through the function it
    /// is given (no copy of the whole file in memory), and fsyncs it (no rename).
    public static func writeSynced(to url: URL, _ produce: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        let fd = open(url.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw DurableFileError.io(path: url.path, operation: "create", errno: errno) }
        defer { close(fd) }
        try produce { try writeAll(fd: fd, $0, path: url.path) }
        guard fsync(fd) == 0 else { throw DurableFileError.io(path: url.path, operation: "fsync", errno: errno) }
    }

    /// Writes all of `bytes` to `fd` (retrying short writes and EINTR), honouring the task's
    /// simulated disk: past its budget a write fails with ENOSPC after writing what fitted, as a
    /// real full disk does. `path` names the file in errors.
    public static func writeAll(fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
        var offset = 0
        while offset < bytes.count {
            var chunk = min(bytes.count - offset, 1 << 24)
            if let disk = simulatedDisk {
                guard let granted = disk.take(chunk) else { throw DurableFileError.io(path: path, operation: "write", errno: ENOSPC) }
                chunk = granted
            }
            let n = Foundation.write(fd, bytes.baseAddress! + offset, chunk)
            if n < 0 {
                if errno == EINTR { continue }
                throw DurableFileError.io(path: path, operation: "write", errno: errno)
            }
            offset += n
        }
    }

    /// Renames `from` to `to` (replacing it) and fsyncs the destination directory.
    public static func rename(_ from: URL, to: URL) throws {
        guard Foundation.rename(from.path, to.path) == 0 else {
            throw DurableFileError.io(path: to.path, operation: "rename \(from.lastPathComponent) to", errno: errno)
        }
        try syncDirectory(to.deletingLastPathComponent())
    }

    /// Fsyncs a directory so renames and creations inside it survive a crash.
    public static func syncDirectory(_ url: URL) throws {
        let fd = open(url.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw DurableFileError.io(path: url.path, operation: "open directory", errno: errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw DurableFileError.io(path: url.path, operation: "fsync directory", errno: errno) }
    }
}
