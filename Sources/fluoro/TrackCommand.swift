import ArgumentParser
import FluoroPlot
import FluoroShards
import FluoroSupport
import FluoroTensor
import FluoroTracking
import Foundation

/// `fluoro track`: a trained HiFT tracker over one run, online, frame by frame.
struct TrackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "track",
        abstract: "Track catheter tips or balloon markers through a run with a fine-tuned HiFT tracker (METHOD §10).",
        discussion: """
            The input is a DICOM XA/RF file, a NumPy [T,H,W] array, or a shard dataset with --sequence. \
            Start points come from --init (first-frame pixels, x right, y down) or the tracker's detector \
            (--auto). Writes one CSV row per frame and landmark: frame,landmark,x,y,lost.
            """)

    @Option(help: "A tracker file (fluoro export / <run>/tracker.safetensors) or a fine-tuning run directory.")
    var model: String

    @Option(help: "The run to track: .dcm, .npy, or a shard dataset directory (with --sequence).")
    var input: String

    @Option(help: "Which sequence of a shard dataset (index, default 0).")
    var sequence = 0

    @Option(name: .customLong("init"), help: ArgumentHelp("Landmarks on the first frame to track from: \"x,y\" or \"x1,y1;x2,y2\" (pixels), or \"annotated\" for a shard sequence's own landmarks on that frame.", valueName: "x,y[;x,y]|annotated"))
    var initial: String?

    @Option(help: "Start at this frame instead of 0 (e.g. the first frame that shows the device).")
    var startFrame = 0

    @Flag(help: "Find the start points with the tracker's detector.")
    var auto = false

    @Option(help: "Output CSV.")
    var out: String

    @Option(name: .customLong("motion-prior"), help: ArgumentHelp("Weight HiFT's heatmap by a Gaussian of this width (crop pixels) around the previous estimates before the read-out (not METHOD §10; off by default): of two candidates the one near the past wins.", valueName: "px"))
    var motionPrior: Float?

    @Option(help: "Write PNG frames with the estimates drawn into this directory.")
    var overlay: String?

    @Option(help: "Write what the model saw into this directory: per frame a PNG of the crop (gray) beside it with the heatmap's probabilities (red, 0 to 1), the estimates (green) and, for an annotated shard sequence, the truth (blue), in crop pixels.")
    var heatmaps: String?

    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        if let m = motionPrior, !(m > 0) { throw ValidationError("--motion-prior must be > 0 (crop pixels)") }
        if (initial == nil) == !auto { throw ValidationError("give --init \"x,y[;x,y]\" or --auto") }
        if startFrame < 0 { throw ValidationError("--start-frame must be >= 0") }
    }

    /// "x,y;x,y" → points.
    static func parsePoints(_ text: String) throws -> [Point2] {
        try text.split(separator: ";").map { pair in
            let parts = pair.split(separator: ",").map { Float($0.trimmingCharacters(in: .whitespaces)) }
            guard parts.count == 2, let x = parts[0], let y = parts[1] else {
                throw ValidationError("--init: '\(pair)' is not \"x,y\" (numbers, pixels of the first frame)")
            }
            return Point2(x: x, y: y)
        }
    }

    func run() throws {
        runtime.apply()
        Parallel.configure(threads: runtime.resolvedThreads)
        let loaded = try TrackerFile.load(URL(fileURLWithPath: model))
        let frames = try Self.readFrames(input, sequence: sequence)
        guard startFrame < frames.count else {
            throw ValidationError("--start-frame \(startFrame): the run has \(frames.count) frames")
        }
        let run = Array(frames[startFrame...])
        let start = try startPoints(loaded, first: run[0])
        let tracker = HiFTTracker(model: loaded.model, motionPrior: motionPrior)
        tracker.keepsHeatmap = heatmaps != nil
        let heatmapDirectory = heatmaps.map { URL(fileURLWithPath: $0) }
        if let heatmapDirectory { try FileManager.default.createDirectory(at: heatmapDirectory, withIntermediateDirectories: true) }
        let truths = heatmaps == nil ? nil : annotatedLandmarks(loaded)
        try tracker.start(first: run[0], landmarks: start)
        var rows = [start.map { LandmarkEstimate(point: $0) }]
        let progress = ProgressLine("track", total: run.count - 1, unit: "frames")
        var trackingSeconds = 0.0  // the tracker's calls only: writing heatmap panels is not tracking
        for (i, frame) in run.dropFirst().enumerated() {
            let t0 = Date()
            rows.append(try tracker.track(frame))
            trackingSeconds += Date().timeIntervalSince(t0)
            if let heatmapDirectory, let heat = tracker.lastHeatmap {
                let truth = (truths?[startFrame + i + 1]).map { $0.map { tracker.workingPoint($0) } } ?? []
                try Self.heatmapPanel(heat, estimates: tracker.workingEstimates, truth: truth, frame: startFrame + i + 1)
                    .write(to: heatmapDirectory.appendingPathComponent(String(format: "heatmap-%04d.png", startFrame + i + 1)))
            }
            progress.update(i + 1)
        }
        let fps = Double(run.count - 1) / max(trackingSeconds, 1e-9)
        progress.finish(note: String(format: "%.1f frames/s", fps))
        try Self.writeCSV(rows, firstFrame: startFrame, to: URL(fileURLWithPath: out))
        if let overlay { try Self.writeOverlays(run, rows, firstFrame: startFrame, to: URL(fileURLWithPath: overlay)) }
        let lost = rows.flatMap { $0 }.filter(\.lost).count
        print("track: \(rows.count) frames x \(start.count) landmark(s) → \(out) (\(lost) lost)" + (overlay.map { "; overlays in \($0)" } ?? "")
              + (heatmaps.map { "; heatmaps in \($0)" } ?? ""))
    }

    func startPoints(_ loaded: TrackerFile.Loaded, first: TrackingFrame) throws -> [Point2] {
        if initial == "annotated" { return try annotatedStart(loaded) }
        if let initial {
            let points = try Self.parsePoints(initial)
            guard points.count == loaded.config.landmarks else {
                throw ValidationError("--init gives \(points.count) point(s); this \(loaded.task.rawValue) tracker follows \(loaded.config.landmarks)")
            }
            return points
        }
        guard let detector = loaded.detector else { throw TrackerFileError.noDetector(path: model) }
        return try HiFTLandmarkDetector(detector: detector).detect(first: first, count: loaded.config.landmarks)
    }

    /// The start frame's own landmarks of a shard sequence (`--init annotated`).
    func annotatedStart(_ loaded: TrackerFile.Loaded) throws -> [Point2] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: input, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("--init annotated needs a shard dataset as --input (DICOM and NumPy files carry no landmarks)")
        }
        let labels = try ShardDataset(directory: URL(fileURLWithPath: input)).annotations(sequence: sequence)
        guard startFrame < labels.count, let points = loaded.task.landmarks(in: labels[startFrame]) else {
            throw ValidationError("--init annotated: sequence \(sequence) has no \(loaded.task.rawValue) landmarks on frame \(startFrame)")
        }
        return points
    }

    /// Every frame of a DICOM/NumPy file or of a shard dataset's sequence, scaled to [0, 1].
    static func readFrames(_ path: String, sequence: Int) throws -> [TrackingFrame] {
        let url = URL(fileURLWithPath: path)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue {
            let dataset = try ShardDataset(directory: url)
            guard (0..<dataset.sequenceCount).contains(sequence) else {
                throw ValidationError("--sequence \(sequence): \(path) has \(dataset.sequenceCount) sequence(s)")
            }
            return try TrackingFrame.frames(of: dataset, sequence: sequence)
        }
        let run = try ClinicalIngest.read(url)
        return (0..<run.info.frameCount).map { TrackingFrame(stored: run.pixels, index: $0, info: run.info) }
    }

    static func writeCSV(_ rows: [[LandmarkEstimate]], firstFrame: Int, to url: URL) throws {
        var text = "frame,landmark,x,y,lost\n"
        for (i, row) in rows.enumerated() {
            for (k, e) in row.enumerated() {
                text += String(format: "%d,%d,%.3f,%.3f,%d\n", firstFrame + i, k, e.point.x, e.point.y, e.lost ? 1 : 0)
            }
        }
        do { try Data(text.utf8).write(to: url, options: .atomic) } catch {
            throw ValidationError("cannot write \(url.path): \(error.localizedDescription)")
        }
    }

    /// A shard sequence's landmarks per frame (nil for files, or without annotations for the task).
    func annotatedLandmarks(_ loaded: TrackerFile.Loaded) -> [[Point2]?]? {
        guard let labels = try? ShardDataset(directory: URL(fileURLWithPath: input)).annotations(sequence: sequence) else { return nil }
        return labels.map { loaded.task.landmarks(in: $0) }
    }

    /// The crop in gray (its own min to max) and, to its right, the same crop with the heatmap's
    /// probabilities in the red channel; the estimates as green crosses, the annotated truth (shard
    /// input) as blue ones; 2x enlarged.
    static func heatmapPanel(_ heat: CropHeatmap, estimates: [(x: Float, y: Float)], truth: [(x: Float, y: Float)], frame: Int) -> RGBImage {
        let S = heat.side
        let low = heat.frame.min() ?? 0, high = heat.frame.max() ?? 1
        let gray = RGBImage(gray: heat.frame, width: S, height: S, low: low, high: high)
        var tinted = gray
        for i in 0..<(S * S) { tinted.pixels[3 * i] = max(tinted.pixels[3 * i], UInt8((heat.probabilities[i] * 255).rounded())) }
        var panel = RGBImage(width: 2 * S + 4, height: S, fill: .black)
        panel.paste(gray, x: 0, y: 0)
        panel.paste(tinted, x: S + 4, y: 0)
        for (points, colour) in [(truth, RGB.blue), (estimates, RGB.green)] {
            for e in points {
                let x = Int((e.x - Float(heat.origin.x)).rounded(.down)), y = Int((e.y - Float(heat.origin.y)).rounded(.down))
                panel.cross(x: x, y: y, arm: 3, colour)
                panel.cross(x: x + S + 4, y: y, arm: 3, colour)
            }
        }
        panel.text("FRAME \(frame)", x: 2, y: 2, .yellow)
        panel.text(String(format: "PEAK %.3f", heat.probabilities.max() ?? 0), x: S + 6, y: 2, .yellow)
        return panel.resized(width: 2 * panel.width, height: 2 * panel.height)
    }

    /// One PNG per frame: the frame in gray, each estimate as a circle (red; gray when lost).
    static func writeOverlays(_ frames: [TrackingFrame], _ rows: [[LandmarkEstimate]], firstFrame: Int, to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for (i, frame) in frames.enumerated() {
            var image = RGBImage(gray: frame.pixels, width: frame.width, height: frame.height)
            let radius = max(3.0, Double(frame.width) / 64)
            for e in rows[i] {
                image.strokeCircle(cx: Double(e.point.x) - 0.5, cy: Double(e.point.y) - 0.5, radius: radius, e.lost ? .gray : .red)
                image.strokeCircle(cx: Double(e.point.x) - 0.5, cy: Double(e.point.y) - 0.5, radius: radius + 1, e.lost ? .gray : .red)
            }
            image.text("FRAME \(firstFrame + i)", x: 4, y: 4, .yellow, scale: max(1, frame.width / 256))
            try image.write(to: directory.appendingPathComponent(String(format: "frame-%04d.png", firstFrame + i)))
        }
    }
}
