import FluoroSupport
import Foundation

/// Appends one JSON object per line to `<run>/metrics.jsonl`, flushed per line so a crash
/// loses at most the line being written. Only the coordinator writes it.
public final class MetricsLog {
    private let handle: FileHandle
    /// Where the lines go.
    public let url: URL

    /// Opens (creating or appending to) the metrics file of a run directory.
    public init(runDirectory: URL, fileName: String = "metrics.jsonl") throws {
        url = runDirectory.appendingPathComponent(fileName)
        if !FileManager.default.fileExists(atPath: url.path) {
            _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        }
        handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
    }

    deinit { try? handle.close() }

    /// Writes one record (keys sorted, so lines diff well).
    public func write(_ record: [String: Any]) throws {
        var line = try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys])
        line.append(0x0A)
        try handle.write(contentsOf: line)
    }

    /// Drops the records after `step` (a resumed run repeats those steps), atomically.
    public static func truncate(runDirectory: URL, fileName: String = "metrics.jsonl", keepingThrough step: Int) throws {
        let url = runDirectory.appendingPathComponent(fileName)
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return }
        let kept = text.split(separator: "\n").filter { line in
            guard let record = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let recorded = (record["step"] as? NSNumber)?.intValue else { return true }
            return recorded <= step
        }
        try DurableFile.write(Data((kept.joined(separator: "\n") + (kept.isEmpty ? "" : "\n")).utf8), to: url)
    }

    /// Reads every record of a metrics file (for tests and tools).
    public static func read(_ url: URL) throws -> [[String: Any]] {
        let text = try String(contentsOf: url, encoding: .utf8)
        return text.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }
}
