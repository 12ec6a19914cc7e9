import FluoroSupport
import Foundation

/// Appends one JSON object per line to `<run>/metrics.jsonl`, written per line so a crash
/// loses at most the line being written, and whole or not at all (a line that does not fit on a
/// full disk is cut off again, see `AppendFile`). Only the coordinator writes it.
public final class MetricsLog {
    private let file: AppendFile
    /// Where the lines go.
    public var url: URL { file.url }

    /// Opens (creating or appending to) the metrics file of a run directory.
    public init(runDirectory: URL, fileName: String = "metrics.jsonl") throws {
        file = try AppendFile(url: runDirectory.appendingPathComponent(fileName))
    }

    /// Writes one record (keys sorted, so lines diff well); throws `DurableFileError` when it
    /// cannot be written (the file then holds no part of it).
    public func write(_ record: [String: Any]) throws {
        var line = try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys])
        line.append(0x0A)
        try file.append(line)
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
