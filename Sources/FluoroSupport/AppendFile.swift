import Foundation

/// A file of records appended whole or not at all (`metrics.jsonl`, TensorBoard event files).
///
/// `append` writes one record at the end of the file; when a write fails part-way (a full disk,
/// a quota; also the simulated disk of `DurableFile.withSimulatedFreeBytes`), the file is cut back
/// to its length before the call and the error is thrown, so a reader never sees half a record
/// and the next record that can be written starts on a boundary. Records are not fsynced: a crash
/// loses at most the last few (the checkpoints are what must survive).
public final class AppendFile {
    /// Where the records go.
    public let url: URL
    private let fd: Int32

    /// Opens `url` for appending, creating it if missing.
    public init(url: URL) throws {
        self.url = url
        fd = open(url.path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw DurableFileError.io(path: url.path, operation: "open", errno: errno) }
    }

    deinit { close(fd) }

    /// Appends `record` whole, or throws with the file unchanged.
    public func append(_ record: Data) throws {
        let start = lseek(fd, 0, SEEK_END)
        do {
            try record.withUnsafeBytes { try DurableFile.writeAll(fd: fd, $0, path: url.path) }
        } catch {
            // Cut the partial record off (a device such as /dev/full has no length to cut).
            if start >= 0 { _ = ftruncate(fd, start) }
            throw error
        }
    }
}
