import FluoroPlot
import Foundation

/// `fluoro report`: one self-contained HTML page about a run — its config, the loss curves
/// (total and both terms), throughput over training time, the newest reconstruction panel and
/// the checkpoints — with the plots also written as PNG files beside the page.
public enum RunReport {
    /// Extra content a caller adds (the CLI adds a tracker evaluation's table).
    public typealias Section = (inout HTMLPage) -> Void

    /// Writes the page to `out` and its plots beside it (`<stem>-loss.png`, `<stem>-throughput.png`);
    /// returns the files written.
    @discardableResult
    public static func write(run: URL, out: URL, extra: [Section] = []) throws -> [URL] {
        let snapshot = try RunSnapshot(run: run)
        var page = HTMLPage(title: "Fluoro run \(run.lastPathComponent)")
        page.paragraph("Run directory \(run.path); \(snapshot.metrics.count) steps logged; generated \(ISO8601DateFormatter().string(from: Date())).")
        var written: [URL] = []
        let stem = out.deletingPathExtension().lastPathComponent, folder = out.deletingLastPathComponent()
        for (name, chart) in charts(snapshot) {
            let png = try chart.render().pngData()
            let url = folder.appendingPathComponent("\(stem)-\(name).png")
            try png.write(to: url, options: .atomic)
            written.append(url)
            page.image(png: png, caption: chart.title)
        }
        if let panel = snapshot.latestPanel, let png = try? Data(contentsOf: panel.url) {
            page.heading("Reconstruction at step \(panel.step)")
            page.image(png: png, caption: "original, masked input, reconstruction, vesselness target and prediction (\(panel.url.lastPathComponent))")
        }
        page.heading("Checkpoints")
        page.table(header: ["step", "written at", "training time"],
                   rows: snapshot.checkpoints.map { [String($0.step), $0.writtenAt, String(format: "%.1f s", $0.trainingSeconds)] })
        extra.forEach { $0(&page) }
        page.heading("Config")
        page.preformatted(snapshot.configText ?? "(no config.json)")
        try Data(page.render().utf8).write(to: out, options: .atomic)
        return [out] + written
    }

    /// The loss and throughput charts.
    static func charts(_ s: RunSnapshot) -> [(String, LineChart)] {
        var loss = LineChart(title: "Training loss", xLabel: "step", yLabel: "loss")
        loss.series = [LineChart.Series(name: "loss", points: s.series("loss"), colour: .black),
                       LineChart.Series(name: "rec", points: s.series("loss_rec"), colour: .blue),
                       LineChart.Series(name: "ves", points: s.series("loss_ves"), colour: .red)]
        var speed = LineChart(title: "Throughput", xLabel: "training seconds", yLabel: "clips/s (10-step window)")
        speed.series = [LineChart.Series(name: "clips/s", points: s.throughput(), colour: .green)]
        return [("loss", loss), ("throughput", speed)]
    }
}
