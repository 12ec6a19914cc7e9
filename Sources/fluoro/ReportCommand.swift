import ArgumentParser
import FluoroTraining
import Foundation

/// `fluoro report`: a self-contained HTML page about a run.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write one self-contained HTML page about a run: config, loss curves, throughput, the latest reconstruction panel, checkpoints, and a tracker evaluation when the run has evaluation.json.",
        discussion: "Plots are embedded in the page as data URIs and also written beside it as PNG files.")

    @Option(name: .customLong("run"), help: "The run directory.")
    var runDirectory: String

    @Option(help: "The HTML file to write (default: RUN/report.html).")
    var out: String?

    func run() throws {
        let run = URL(fileURLWithPath: runDirectory)
        let target = out.map { URL(fileURLWithPath: $0) } ?? run.appendingPathComponent("report.html")
        let evaluation = try EvaluationSection.load(run.appendingPathComponent("evaluation.json"))
        let written = try RunReport.write(run: run, out: target, extra: evaluation.map { [$0] } ?? [])
        print("report: \(written.map(\.path).joined(separator: ", "))")
    }
}
