import FluoroPlot
import FluoroShards
import Foundation

/// The figures of an evaluation: the error CDF of every method, and for the first method's
/// worst runs their trajectories and a strip of frames with truth and estimate drawn.
public enum EvaluationPlots {
    /// Curve colours, one per method in order.
    public static let palette: [RGB] = [.blue, .red, .green, .yellow, RGB(150, 60, 200), .gray]

    /// Writes `error-cdf.png` and, for the first method's `worst` worst runs,
    /// `worst-N-trajectory.png` and `worst-N-strip.png` (N = 1 is the worst) into `directory`.
    @discardableResult
    public static func write(_ evaluations: [TrackingEvaluation], dataset: ShardDataset, to directory: URL,
                             worst: Int = 3) throws -> [URL] {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var written = [directory.appendingPathComponent("error-cdf.png")]
        try errorCDF(evaluations).write(to: written[0])
        guard let first = evaluations.first else { return written }
        for (n, run) in worstRuns(first, count: worst).enumerated() {
            let trajectoryURL = directory.appendingPathComponent("worst-\(n + 1)-trajectory.png")
            try trajectory(first, run: run).write(to: trajectoryURL)
            let stripURL = directory.appendingPathComponent("worst-\(n + 1)-strip.png")
            try strip(first, run: run, dataset: dataset).write(to: stripURL)
            written += [trajectoryURL, stripURL]
        }
        return written
    }

    /// The fraction of landmark-frames (frame 0 excluded) with error ≤ x px, one curve per method.
    public static func errorCDF(_ evaluations: [TrackingEvaluation]) -> RGBImage {
        var chart = LineChart(title: "Tracking error CDF", xLabel: "error (px)", yLabel: "fraction of frames <= x")
        var largest = 1.0
        for (i, e) in evaluations.enumerated() {
            let errors = e.records.filter { $0.frame > 0 }.map(\.errorPx).sorted()
            largest = max(largest, errors.last ?? 0)
            chart.series.append(.init(name: e.method, points: cdfPoints(errors), colour: palette[i % palette.count]))
        }
        chart.xRange = 0 ... largest.rounded(.up)
        chart.yRange = 0 ... 1
        return chart.render()
    }

    /// The step curve of sorted `errors`: (0, 0), then each error at the fraction below and at it.
    static func cdfPoints(_ errors: [Double]) -> [(x: Double, y: Double)] {
        let n = Double(errors.count)
        var points: [(x: Double, y: Double)] = [(0, 0)]
        for (i, e) in errors.enumerated() {
            points.append((e, Double(i) / n)); points.append((e, Double(i + 1) / n))
        }
        return points
    }

    /// Run ids of `evaluation` by mean pixel error over frames after the first, worst first.
    public static func worstRuns(_ evaluation: TrackingEvaluation, count: Int) -> [String] {
        var sums: [String: (total: Double, n: Int)] = [:]
        for r in evaluation.records where r.frame > 0 {
            sums[r.run, default: (0, 0)].total += r.errorPx
            sums[r.run, default: (0, 0)].n += 1
        }
        let means = sums.mapValues { $0.total / Double($0.n) }
        return means.keys.sorted { (means[$0]!, $1) > (means[$1]!, $0) }.prefix(count).map { $0 }
    }

    /// x (top) and y (bottom) of every landmark over the frames of `run`: truth and estimate.
    public static func trajectory(_ evaluation: TrackingEvaluation, run: String) -> RGBImage {
        let records = evaluation.records.filter { $0.run == run }
        let landmarks = Set(records.map(\.landmark)).sorted()
        var panels: [RGBImage] = []
        for (axis, value) in [("x", { (p: Point2) in Double(p.x) }), ("y", { (p: Point2) in Double(p.y) })] {
            var chart = LineChart(title: "\(run) \(axis)", xLabel: "frame", yLabel: "\(axis) (px)")
            chart.height = 300
            for k in landmarks {
                let own = records.filter { $0.landmark == k }.sorted { $0.frame < $1.frame }
                let suffix = landmarks.count > 1 ? " \(k)" : ""
                chart.series.append(.init(name: "truth" + suffix, points: own.map { (Double($0.frame), value($0.truth)) },
                                          colour: k == 0 ? .green : RGB(20, 110, 40)))
                chart.series.append(.init(name: "\(evaluation.method)" + suffix,
                                          points: own.map { (Double($0.frame), value($0.estimate)) },
                                          colour: k == 0 ? .red : RGB(240, 140, 20)))
            }
            panels.append(chart.render())
        }
        var image = RGBImage(width: panels[0].width, height: panels[0].height * 2)
        image.paste(panels[0], x: 0, y: 0)
        image.paste(panels[1], x: 0, y: panels[0].height)
        return image
    }

    /// About `count` evenly spaced frames of `run` side by side, gray, with the truth (green
    /// cross) and the estimate (red circle) of every landmark; small frames are enlarged.
    public static func strip(_ evaluation: TrackingEvaluation, run: String, dataset: ShardDataset,
                             count: Int = 6) throws -> RGBImage {
        guard let index = (0 ..< dataset.sequenceCount).first(where: { dataset.info(sequence: $0).id == run }) else {
            throw EvaluationPlotError.runNotInDataset(run: run, directory: dataset.directory.path)
        }
        let frames = try TrackingFrame.frames(of: dataset, sequence: index)
        let records = evaluation.records.filter { $0.run == run }
        let shown = count >= frames.count || count < 2 ? Array(frames.indices)
            : (0 ..< count).map { Int((Double($0) * Double(frames.count - 1) / Double(count - 1)).rounded()) }
        let scale = max(1, 192 / max(frames[0].width, frames[0].height))
        let tileW = frames[0].width * scale, tileH = frames[0].height * scale, gap = 4, label = 14
        var image = RGBImage(width: shown.count * (tileW + gap) + gap, height: tileH + label + gap, fill: .white)
        for (slot, t) in shown.enumerated() {
            let x0 = gap + slot * (tileW + gap)
            image.paste(tile(frames[t], scale: scale), x: x0, y: label)
            image.text("frame \(t)", x: x0, y: 3)
            for r in records where r.frame == t {
                let s = Double(scale)
                image.cross(x: x0 + Int(Double(r.truth.x) * s), y: label + Int(Double(r.truth.y) * s), arm: 5, .green)
                image.strokeCircle(cx: Double(x0) + Double(r.estimate.x) * s, cy: Double(label) + Double(r.estimate.y) * s,
                                   radius: 5, .red)
            }
        }
        return image
    }

    /// A frame as a gray image stretched over its own value range and enlarged `scale` times.
    static func tile(_ frame: TrackingFrame, scale: Int) -> RGBImage {
        let low = frame.pixels.min() ?? 0, high = frame.pixels.max() ?? 1
        let W = frame.width * scale, H = frame.height * scale
        var values = [Float](repeating: 0, count: W * H)
        for y in 0 ..< H { for x in 0 ..< W { values[y * W + x] = frame.pixels[(y / scale) * frame.width + x / scale] } }
        return RGBImage(gray: values, width: W, height: H, low: low, high: high > low ? high : low + 1)
    }
}

/// Why a figure cannot be drawn.
public enum EvaluationPlotError: Error, CustomStringConvertible {
    case runNotInDataset(run: String, directory: String)

    public var description: String {
        switch self {
        case let .runNotInDataset(run, directory):
            return "run \(run) is not in \(directory): draw strips from the dataset that was evaluated"
        }
    }
}
