import Foundation

/// The written forms of an evaluation: a text table, JSON summaries and a per-frame CSV.
public enum EvaluationReport {
    /// What `--json` writes per method: the summary and speed, without the per-frame records.
    public struct MethodSummary: Codable, Sendable {
        public var method: String
        public var task: TrackingTask
        public var fps: Double
        public var trackedFrames: Int
        public var trackSeconds: Double
        public var threads: Int
        public var groups: [TrackingGroupSummary]

        public init(_ e: TrackingEvaluation) {
            method = e.method; task = e.task; fps = e.fps; trackedFrames = e.trackedFrames
            trackSeconds = e.trackSeconds; threads = e.threads; groups = e.summary.groups
        }
    }

    /// The CSV header of `perFrameCSV`.
    public static let csvHeader = "run,frame,landmark,estimate_x,estimate_y,truth_x,truth_y,error_px,error_mm,occluded,lost,method,init"

    /// One row per method x landmark kind x initialisation x run split: errors in px (mean,
    /// median, std, max) and mm (mean, max; "-" when unknown), failure %, landmark-frames, FPS.
    public static func table(_ evaluations: [TrackingEvaluation]) -> String {
        let header = ["method", "landmark", "init", "runs", "mean px", "median px", "std px", "max px",
                      "mean mm", "max mm", "fail %", "frames", "FPS"]
        var rows: [[String]] = []
        for e in evaluations {
            for g in e.summary.groups {
                rows.append([e.method, g.kind.rawValue, g.initialisation.rawValue, "\(g.split.rawValue) (\(g.runs))",
                             f(g.px.mean), f(g.px.median), f(g.px.std), f(g.px.max),
                             g.mm.map { f($0.mean) } ?? "-", g.mm.map { f($0.max) } ?? "-",
                             String(format: "%.1f", 100 * g.failureRate), "\(g.frames)", String(format: "%.0f", e.fps)])
            }
        }
        let widths = header.indices.map { c in ([header] + rows).map { $0[c].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            zip(cells, widths).enumerated().map { c, pair in
                c < 3 ? pair.0.padding(toLength: pair.1, withPad: " ", startingAt: 0)
                      : String(repeating: " ", count: pair.1 - pair.0.count) + pair.0
            }.joined(separator: "  ")
        }
        var out = [line(header), String(repeating: "-", count: widths.reduce(0, +) + 2 * (widths.count - 1))]
        out += rows.map(line)
        out += footnotes(evaluations)
        return out.joined(separator: "\n") + "\n"
    }

    /// How failures were decided and how speed was measured.
    static func footnotes(_ evaluations: [TrackingEvaluation]) -> [String] {
        let criteria = Set(evaluations.flatMap { $0.summary.groups.map(\.failureCriterion) }).sorted()
        let threads = Set(evaluations.map(\.threads)).sorted().map(String.init).joined(separator: "/")
        return ["failure: error > " + criteria.joined(separator: ", ")
                    + " (10 px at 512 px, scaled to the frame side, where the pixel spacing is unknown); frame 0 excluded",
                "FPS: wall clock of track calls, batch 1, \(threads) thread(s)"]
    }

    /// The summaries as pretty-printed JSON (an array, one object per method).
    public static func json(_ evaluations: [TrackingEvaluation]) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(evaluations.map(MethodSummary.init))
    }

    /// Every record of every method as CSV (`csvHeader`; error_mm empty when unknown).
    public static func perFrameCSV(_ evaluations: [TrackingEvaluation]) -> String {
        var lines = [csvHeader]
        for e in evaluations {
            for r in e.records {
                let landmark = r.kind == .tip ? "tip" : "marker\(r.landmark)"
                let cells = [csvField(r.run), "\(r.frame)", landmark,
                             "\(r.estimate.x)", "\(r.estimate.y)", "\(r.truth.x)", "\(r.truth.y)",
                             String(format: "%.4f", r.errorPx), r.errorMm.map { String(format: "%.4f", $0) } ?? "",
                             r.occluded ? "1" : "0", r.lost ? "1" : "0", csvField(e.method), r.initialisation.rawValue]
                lines.append(cells.joined(separator: ","))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A field quoted when it holds a comma, quote or newline.
    static func csvField(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    private static func f(_ v: Double) -> String { String(format: "%.2f", v) }
}
