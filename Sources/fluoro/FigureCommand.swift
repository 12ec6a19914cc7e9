import ArgumentParser
import FluoroLabels
import FluoroPlot
import FluoroShards
import FluoroSim
import FluoroSupport
import Foundation

/// `fluoro figure`: redraws the figures in docs/ from the real runs and the simulator, so every
/// figure there is made by a command in this repository. The output is deterministic (fixed
/// seeds, frames chosen by fixed rules).
struct FigureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "figure",
        abstract: "Draw the figures in docs/ from the real DICOM runs and the simulator.",
        subcommands: [SimulatorVsReal.self, Frangi.self])
}

/// The options every figure takes.
struct FigureOptions: ParsableArguments {
    @Option(help: "Directory of real DICOM runs (e.g. ../shared/data/real).")
    var real: String

    @Option(help: "PNG file to write.")
    var out: String

    /// Writes `image` to --out and says so.
    func write(_ image: RGBImage) throws {
        try image.write(to: URL(fileURLWithPath: out))
        print("wrote \(out) (\(image.width)x\(image.height))")
    }
}

extension FigureCommand {
    /// Real frames (top) against synthetic frames and their labels (bottom): docs/simulator-vs-real.png.
    struct SimulatorVsReal: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "simulator-vs-real",
            abstract: "Real frames (top) against synthetic frames and their labels (bottom), 3x2 panels.",
            discussion: """
                Top: the shortest real run (fluoroscopy) at its middle frame, the longest (angiography) at \
                45% and 92% of its length (peak opacification, wash-out). Bottom: simulator sequence 0 \
                (seed 0, with balloon) as fluoroscopy at its middle frame and as angiography at its frame of \
                most vesselness, and that frame's labels (vesselness gray, catheter mask darker, circles at \
                the catheter tip and the balloon markers).
                """)

        @OptionGroup var figure: FigureOptions

        @Option(help: "Panel side in pixels; the simulator renders at this size.")
        var panel = 512

        func validate() throws {
            if panel < 16 { throw ValidationError("--panel must be at least 16 pixels, got \(panel)") }
        }

        func run() throws {
            let runs = try RealRuns(directory: figure.real)
            let real = [RealRuns.panel(runs.fluoroscopy, at: 0.5, title: "real fluoro"),
                        RealRuns.panel(runs.angiography, at: 0.45, title: "real angio, peak"),
                        RealRuns.panel(runs.angiography, at: 0.92, title: "real angio, wash-out")]
            let fluoro = simulated(.fluoro), angio = simulated(.angio)
            let peak = Figure.brightestLayerFrame(angio, .vesselness)
            let synthetic = [(Figure.frame(fluoro, fluoro.info.frameCount / 2), "synthetic fluoro, devices"),
                             (Figure.frame(angio, peak), "synthetic angio, peak"),
                             (Figure.labels(angio, peak), "synthetic labels")]
            try figure.write(Figure.grid(real + synthetic, columns: 3, side: panel))
        }

        /// Simulator sequence 0 of `kind` at the panel size: seed 0, always a balloon.
        private func simulated(_ kind: RunKind) -> FrameSequence {
            let config = SimulatorConfig(frames: 24, size: panel, kind: kind, seed: 0, balloonProbability: 1)
            return XRaySimulator(config: config).sequence(index: 0)
        }
    }

    /// The two real runs (left) and their Frangi vesselness (right): docs/frangi-on-real-runs.png.
    struct Frangi: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "frangi",
            abstract: "The real runs (left) and their Frangi vesselness as `fluoro label` writes it (right); with --model, the U-Net's too.",
            discussion: """
                One row per run: the longest (angiography) at 45% of its length, then the shortest \
                (fluoroscopy) at its middle frame. The vesselness is the layer `fluoro label --method frangi` \
                stores (UInt8, 255 for 1), shown unscaled; with --model a third column holds the layer of \
                `fluoro label --method unet --model FILE` (docs/labellers-on-real-runs.png).
                """)

        @OptionGroup var figure: FigureOptions

        @Option(help: "Panel side in pixels.")
        var panel = 384

        @Option(help: "A U-Net labeller (fluoro train-labeller): adds its vesselness beside Frangi's.")
        var model: String?

        func validate() throws {
            if panel < 16 { throw ValidationError("--panel must be at least 16 pixels, got \(panel)") }
        }

        func run() throws {
            let runs = try RealRuns(directory: figure.real)
            let labeller = VesselnessLabeller(filter: FrangiFilter(), threads: CoreBudget.defaultThreads)
            let unet: UNetLabeller?
            do { unet = try model.map { try UNetLabeller(model: URL(fileURLWithPath: $0)) } } catch { throw ValidationError("\(error)") }
            var panels: [(RGBImage, String)] = []
            for (run, position) in [(runs.angiography, 0.45), (runs.fluoroscopy, 0.5)] {
                let t = RealRuns.frameIndex(run.sequence, at: position)
                let layer = try labeller.label(pixels: Figure.pixels(run.sequence, t), info: run.sequence.info, frameCount: 1)
                let info = run.sequence.info
                panels.append((Figure.frame(run.sequence, t), "\(run.name) #\(t)"))
                panels.append((RGBImage(gray: layer.map { Float($0) / 255 }, width: info.width, height: info.height),
                               "Frangi vesselness"))
                if let unet {
                    let learned = try unet.label(pixels: Figure.pixels(run.sequence, t), info: info, frameCount: 1)
                    panels.append((RGBImage(gray: learned.map { Float($0) / 255 }, width: info.width, height: info.height),
                                   "U-Net vesselness"))
                }
            }
            try figure.write(Figure.grid(panels, columns: unet == nil ? 2 : 3, side: panel))
        }
    }
}

/// The DICOM runs of a directory, read once; the shortest is taken as the fluoroscopy run and
/// the longest as the angiography run (in ../shared/data/real: 17 and 96 frames).
struct RealRuns {
    /// A run and its file's name without extension.
    typealias Run = (name: String, sequence: FrameSequence)

    /// Every DICOM run, fewest frames first (ties by name).
    let runs: [Run]

    init(directory: String) throws {
        let files = try ClinicalIngest.candidates(in: URL(fileURLWithPath: directory))
            .filter { ClinicalIngest.format(of: $0) == .dicom }
        guard !files.isEmpty else {
            throw ValidationError("no DICOM files in \(directory); give --real a directory of DICOM runs, e.g. ../shared/data/real")
        }
        runs = try files.map { (name: $0.deletingPathExtension().lastPathComponent, sequence: try ClinicalIngest.read($0)) }
            .sorted { ($0.sequence.info.frameCount, $0.name) < ($1.sequence.info.frameCount, $1.name) }
    }

    var fluoroscopy: Run { runs[0] }
    var angiography: Run { runs[runs.count - 1] }

    /// The frame at `position` (0...1) of the run's length.
    static func frameIndex(_ sequence: FrameSequence, at position: Double) -> Int {
        min(sequence.info.frameCount - 1, Int(Double(sequence.info.frameCount) * position))
    }

    /// The frame at `position` of `run`, titled "`title`: name #frame".
    static func panel(_ run: Run, at position: Double, title: String) -> (RGBImage, String) {
        let t = frameIndex(run.sequence, at: position)
        return (Figure.frame(run.sequence, t), "\(title): \(run.name) #\(t)")
    }
}

/// Frames, layers and labels of a `FrameSequence` as images, and the panel grid.
enum Figure {
    /// The stored bytes of frame `t`.
    static func pixels(_ sequence: FrameSequence, _ t: Int) -> Data {
        let bytes = sequence.info.frameBytes, start = sequence.pixels.startIndex + t * bytes
        return Data(sequence.pixels[start ..< start + bytes])
    }

    /// Frame `t` in gray, scaled to [0, 1] by the sequence's bits stored.
    static func frame(_ sequence: FrameSequence, _ t: Int) -> RGBImage {
        let info = sequence.info, frame = [UInt8](pixels(sequence, t))
        let wide = info.pixelFormat == .uint16
        let bits = min(max(info.bitsStored, 1), wide ? 16 : 8)
        let values: [Float] = wide
            ? (0 ..< info.width * info.height).map { Float(UInt16(frame[2 * $0]) | UInt16(frame[2 * $0 + 1]) << 8) }
            : frame.map { Float($0) }
        return RGBImage(gray: values, width: info.width, height: info.height, high: Float((1 << bits) - 1))
    }

    /// Layer `kind` of frame `t` as bytes (zero when the sequence lacks it).
    static func layer(_ sequence: FrameSequence, _ kind: LayerKind, _ t: Int) -> [UInt8] {
        let plane = sequence.info.width * sequence.info.height
        guard let data = sequence.layers[kind] else { return [UInt8](repeating: 0, count: plane) }
        let start = data.startIndex + t * plane
        return [UInt8](data[start ..< start + plane])
    }

    /// The frame whose `kind` layer has the largest sum (the first on ties): peak contrast for vesselness.
    static func brightestLayerFrame(_ sequence: FrameSequence, _ kind: LayerKind) -> Int {
        let sums = (0 ..< sequence.info.frameCount).map { t in layer(sequence, kind, t).reduce(0) { $0 + Int($1) } }
        return sums.indices.max { sums[$0] < sums[$1] || (sums[$0] == sums[$1] && $0 > $1) } ?? 0
    }

    /// The labels of frame `t` on black: vesselness in gray (up to 200), the catheter mask at 110,
    /// and white circles at the catheter tip and the balloon markers.
    static func labels(_ sequence: FrameSequence, _ t: Int) -> RGBImage {
        let info = sequence.info
        let vesselness = layer(sequence, .vesselness, t), catheter = layer(sequence, .catheterMask, t)
        let values = (0 ..< vesselness.count).map { catheter[$0] > 0 ? Float(110) : Float(vesselness[$0]) * 200 / 255 }
        var image = RGBImage(gray: values, width: info.width, height: info.height, high: 255)
        let annotation = t < sequence.annotations.count ? sequence.annotations[t] : FrameAnnotation()
        let radius = max(3, Double(info.width) / 80)
        for point in annotation.markers + (annotation.tip.map { [$0] } ?? []) {
            image.strokeCircle(cx: Double(point.x), cy: Double(point.y), radius: radius, .white)
            image.strokeCircle(cx: Double(point.x), cy: Double(point.y), radius: radius - 1, .white)
        }
        return image
    }

    /// `panels` resized to `side` x `side`, `columns` to a row, each titled top-left.
    static func grid(_ panels: [(RGBImage, String)], columns: Int, side: Int) -> RGBImage {
        let rows = (panels.count + columns - 1) / columns
        var canvas = RGBImage(width: columns * side, height: rows * side, fill: .black)
        let scale = side >= 256 ? 2 : 1
        for (i, (image, title)) in panels.enumerated() {
            let x = (i % columns) * side, y = (i / columns) * side
            canvas.paste(image.resized(width: side, height: side), x: x, y: y)
            canvas.title(title, x: x + 4, y: y + 4, scale: scale)
        }
        return canvas
    }
}
