import Foundation

/// Human-readable logging to standard error: `[fluoro] message` or `[fluoro rank 1] message`.
public enum Log {
    /// The rank shown in each line; nil for single-process runs.
    nonisolated(unsafe) public static var rank: Int?

    /// Writes one line to standard error.
    public static func info(_ message: String) {
        let prefix = rank.map { "[fluoro rank \($0)] " } ?? "[fluoro] "
        FileHandle.standardError.write(Data((prefix + message + "\n").utf8))
    }

    /// Writes an error line to standard error.
    public static func error(_ message: String) {
        info("error: " + message)
    }
}
