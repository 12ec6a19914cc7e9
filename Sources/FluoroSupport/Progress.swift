import Foundation

/// A one-line progress report for long work: count/total, rate and ETA, redrawn in place on a
/// terminal and printed at most every few seconds otherwise (logs stay readable).
public final class ProgressLine {
    private let label: String
    private let total: Int
    private let unit: String
    private let start = Date()
    private var lastPrint = Date.distantPast
    private let isTerminal = isatty(STDERR_FILENO) != 0
    private let enabled: Bool

    /// - Parameters: label: what is being done; total: items expected (0 if unknown);
    ///   unit: what an item is ("frames", "files"); enabled: false silences it (non-zero ranks).
    public init(_ label: String, total: Int, unit: String, enabled: Bool = true) {
        self.label = label
        self.total = total
        self.unit = unit
        self.enabled = enabled
    }

    /// Reports that `done` items are finished, with an optional extra note.
    public func update(_ done: Int, note: String = "") {
        guard enabled else { return }
        let now = Date()
        let interval: TimeInterval = isTerminal ? 0.2 : 5
        guard now.timeIntervalSince(lastPrint) >= interval || done == total else { return }
        lastPrint = now
        let elapsed = max(now.timeIntervalSince(start), 1e-9)
        let rate = Double(done) / elapsed
        var text = "\(label): \(done)"
        if total > 0 { text += "/\(total)" }
        text += " \(unit), \(String(format: "%.1f", rate)) \(unit)/s"
        if total > 0, rate > 0, done < total {
            text += ", ETA \(Self.format(seconds: Double(total - done) / rate))"
        }
        if !note.isEmpty { text += ", \(note)" }
        if isTerminal {
            FileHandle.standardError.write(Data(("\r\u{1B}[K" + text).utf8))
        } else {
            FileHandle.standardError.write(Data((text + "\n").utf8))
        }
    }

    /// Ends the line (on a terminal) and prints the final count and elapsed time.
    public func finish(note: String = "") {
        guard enabled else { return }
        let elapsed = Date().timeIntervalSince(start)
        var text = "\(label): done in \(Self.format(seconds: elapsed))"
        if !note.isEmpty { text += ", \(note)" }
        FileHandle.standardError.write(Data(((isTerminal ? "\r\u{1B}[K" : "") + text + "\n").utf8))
    }

    /// "1h02m", "3m05s" or "4.2s".
    public static func format(seconds: Double) -> String {
        if seconds >= 3600 { return String(format: "%dh%02dm", Int(seconds) / 3600, (Int(seconds) % 3600) / 60) }
        if seconds >= 60 { return String(format: "%dm%02ds", Int(seconds) / 60, Int(seconds) % 60) }
        return String(format: "%.1fs", seconds)
    }
}
