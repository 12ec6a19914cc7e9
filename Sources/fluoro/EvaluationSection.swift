import FluoroTracking
import FluoroTraining
import Foundation

/// The report section of a tracker evaluation (`evaluation.json`, what `fluoro evaluate --json`
/// prints): one table row per method x landmark x initialisation x run split.
enum EvaluationSection {
    /// Errors reading evaluation.json, naming the file.
    enum Failure: Error, CustomStringConvertible {
        case unreadable(path: String, reason: String)
        var description: String {
            switch self {
            case let .unreadable(path, reason):
                return "\(path) is not an evaluation summary (\(reason)); write it with `fluoro evaluate --json > \(path)`"
            }
        }
    }

    /// The section for `url`, or nil when the file does not exist.
    static func load(_ url: URL) throws -> RunReport.Section? {
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let summaries: [EvaluationReport.MethodSummary]
        do { summaries = try JSONDecoder().decode([EvaluationReport.MethodSummary].self, from: Data(contentsOf: url)) } catch {
            throw Failure.unreadable(path: url.path, reason: "\(error)")
        }
        return { page in
            page.heading("Tracker evaluation")
            page.table(header: ["method", "task", "landmark", "init", "runs", "mean px", "median px", "max px", "mean mm", "fail %", "frames", "FPS"],
                       rows: rows(summaries))
        }
    }

    static func rows(_ summaries: [EvaluationReport.MethodSummary]) -> [[String]] {
        summaries.flatMap { s in
            s.groups.map { g in
                [s.method, s.task.rawValue, g.kind.rawValue, g.initialisation.rawValue, "\(g.split.rawValue) (\(g.runs))",
                 f(g.px.mean), f(g.px.median), f(g.px.max), g.mm.map { f($0.mean) } ?? "-",
                 String(format: "%.1f", 100 * g.failureRate), "\(g.frames)", String(format: "%.0f", s.fps)]
            }
        }
    }

    static func f(_ v: Double) -> String { String(format: "%.2f", v) }
}
