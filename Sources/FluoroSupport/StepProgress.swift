import Foundation

/// The progress line of a training loop: "step S/T  <details>  R clips/s  ETA E". On a terminal
/// it is redrawn in place (carriage return, erase line); in a file or pipe each report is its
/// own line, so logs keep one line per log step. The rate is an exponential moving average of
/// the rates between reports, and the ETA follows from it, so neither jumps with one slow step.
public final class StepProgress {
    /// Steps in the whole run.
    public let total: Int
    /// What the rate counts ("clips").
    public let unit: String
    /// Weight of the newest window in the moving average (0 < smoothing <= 1).
    public let smoothing: Double
    /// Whether reports redraw one line in place.
    public let isTerminal: Bool
    private let write: (String) -> Void
    private var window = (items: 0, seconds: 0.0)
    private var drawn = false
    /// The smoothed rate in `unit` per second (nil before the first report).
    public private(set) var smoothedRate: Double?

    /// - Parameters: write: where text goes (default: standard output, flushed);
    ///   isTerminal: redraw in place (default: `standardOutputIsTerminal`).
    public init(total: Int, unit: String, smoothing: Double = 0.3, isTerminal: Bool? = nil,
                write: ((String) -> Void)? = nil) {
        self.total = total
        self.unit = unit
        self.smoothing = min(max(smoothing, 0.01), 1)
        self.isTerminal = isTerminal ?? Self.standardOutputIsTerminal
        self.write = write ?? { text in print(text, terminator: ""); fflush(stdout) }
    }

    /// Whether standard output is a terminal a person watches. Under mpirun it is not taken as
    /// one: Open MPI hands its ranks a pseudo-terminal even when mpirun's own output goes to a file.
    public static var standardOutputIsTerminal: Bool {
        let environment = ProcessInfo.processInfo.environment
        let underMPI = ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"].contains { environment[$0] != nil }
        return isatty(STDOUT_FILENO) != 0 && !underMPI
    }

    /// Counts one finished step: `items` processed in `seconds`.
    public func count(items: Int, seconds: Double) {
        window.items += items
        window.seconds += seconds
    }

    /// Folds the window since the last report into the moving average and prints the line for
    /// `step`; `itemsPerStep` gives the ETA. Returns the line (without control characters).
    @discardableResult
    public func report(step: Int, itemsPerStep: Int, details: String) -> String {
        if window.seconds > 0 {
            let rate = Double(window.items) / window.seconds
            smoothedRate = smoothedRate.map { smoothing * rate + (1 - smoothing) * $0 } ?? rate
        }
        window = (0, 0)
        let rate = smoothedRate ?? 0
        let eta = rate > 0 ? Double(max(total - step, 0) * itemsPerStep) / rate : 0
        let line = "step \(step)/\(total)  \(details)  " + String(format: "%.1f %@/s", rate, unit)
            + "  ETA \(ProgressLine.format(seconds: eta))"
        if isTerminal {
            write("\r\u{1B}[K" + line)
            drawn = true
        } else {
            write(line + "\n")
        }
        return line
    }

    /// Ends a line redrawn in place (on a terminal), so what follows starts on a new line.
    public func finish() {
        guard isTerminal && drawn else { return }
        write("\n")
        drawn = false
    }
}
