import FluoroSupport
import Foundation

/// The writes in which a run reports on itself — `metrics.jsonl` lines and TensorBoard events —
/// that must not end training when the disk is full: a record that cannot be written is dropped
/// whole (the files never hold half a record), training goes on, and the log says so once when
/// writing starts failing and once when it works again, with the count dropped. Errors other
/// than failed writes (a record that cannot be encoded: a bug) still end the run.
public final class ReportWrites {
    /// Records dropped so far, over all files.
    public private(set) var dropped = 0
    /// Records dropped per file since it last failed (absent: the file is writing).
    private var failing: [String: Int] = [:]

    public init() {}

    /// Runs `write` (one record to the file called `file`); a failed write is counted and logged.
    public func attempt(_ file: String, step: Int, _ write: () throws -> Void) throws {
        do {
            try write()
            if let lost = failing.removeValue(forKey: file) {
                Log.info("step \(step): writing \(file) works again; \(lost) record(s) were dropped")
            }
        } catch let error where Self.isWriteFailure(error) {
            dropped += 1
            if failing[file] == nil {
                Log.error("step \(step): writing \(file) failed: \(error); training goes on, dropping its records until writing works again")
            }
            failing[file, default: 0] += 1
        }
    }

    /// True for a failed write to a file (full disk, quota, I/O error), as opposed to a bug.
    static func isWriteFailure(_ error: Error) -> Bool {
        switch error {
        case is DurableFileError: return true
        case TensorBoardError.writeFailed: return true
        default: return false
        }
    }
}
