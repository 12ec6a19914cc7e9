import ArgumentParser
import FluoroShards
import FluoroSupport
import FluoroTensor
import FluoroTracking
import Foundation

/// `fluoro evaluate`: METHOD §11 — tracks every annotated run of a test set with each method and
/// reports errors (px, mm), failure rates, occlusion splits and speed.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Evaluate landmark trackers (HiFT, NCC, still) on an annotated shard dataset (METHOD §11).",
        discussion: """
            Every run whose first frame carries the task's landmarks is tracked from frame 0's truth \
            (or, with --auto-init, the model's detector); errors are measured on every later frame with \
            a truth. Failure: error > 3 mm, or 10 px at 512 px (scaled to the frame side) where the \
            pixel spacing is unknown. FPS is the wall clock of the trackers' per-frame calls, batch 1. \
            Without --model and --baseline, the baselines ncc and still are evaluated.
            """)

    /// The classic trackers that need no training.
    enum Baseline: String, ExpressibleByArgument, CaseIterable {
        case ncc, still

        func make() -> LandmarkTracker {
            switch self {
            case .ncc: return NCCTracker()
            case .still: return StillTracker()
            }
        }
    }

    @Option(help: "Test dataset directory (with manifest.json).")
    var shards: String

    @Option(help: "What to track: tip or markers.")
    var task: TrackingTask

    @Option(help: "A fine-tuned HiFT tracker to evaluate.")
    var model: String?

    @Option(help: "A baseline to evaluate as well (repeatable): \(Baseline.allCases.map(\.rawValue).joined(separator: ", ")).")
    var baseline: [Baseline] = []

    @Flag(help: "Initialise runs with the model's detector instead of frame 0's truth (needs --model).")
    var autoInit = false

    @Flag(name: .customLong("one-step"), help: "Correct every tracker to the truth after each frame: per-frame errors without earlier drift (a diagnostic; methods are reported as <name>-1step).")
    var oneStep = false

    @Option(name: .customLong("motion-prior"), help: ArgumentHelp("Weight HiFT's heatmap by a Gaussian of this width (crop pixels) around the previous estimates before the read-out (not METHOD §10; off by default): of two candidates the one near the past wins.", valueName: "px"))
    var motionPrior: Float?

    @Flag(help: "Print the summaries as JSON instead of the table.")
    var json = false

    @Option(help: "Write every landmark of every frame and method to this CSV file.")
    var perFrame: String?

    @Option(help: "Write error-cdf.png and the first method's worst-run trajectories and strips here.")
    var plots: String?

    @OptionGroup var runtime: RuntimeOptions

    @OptionGroup var precisionOptions: PrecisionOptions

    func validate() throws {
        if let m = motionPrior, !(m > 0) { throw ValidationError("--motion-prior must be > 0 (crop pixels)") }
        if autoInit && model == nil { throw ValidationError("--auto-init needs --model: the detector is part of the HiFT tracker") }
    }

    /// The methods to evaluate, in report order: the model first (when given), then the baselines.
    func trackerFactories() throws -> [(name: String, make: () throws -> LandmarkTracker)] {
        var factories: [(name: String, make: () throws -> LandmarkTracker)] = []
        if let loaded = try loadedModel() {
            guard loaded.task == task else {
                throw ValidationError("--model is a \(loaded.task.rawValue) tracker; evaluate it with --task \(loaded.task.rawValue)")
            }
            factories.append(("hift", { HiFTTracker(model: loaded.model, motionPrior: motionPrior) }))
        }
        let baselines = baseline.isEmpty && model == nil ? Baseline.allCases : baseline
        for b in baselines { factories.append((b.rawValue, b.make)) }
        return factories
    }

    /// The tracker of --model, loaded once.
    func loadedModel() throws -> TrackerFile.Loaded? {
        try model.map { try TrackerFile.load(URL(fileURLWithPath: $0)) }
    }

    /// The model's detector, when --auto-init asks for it.
    func detector() throws -> LandmarkDetector? {
        guard autoInit, let loaded = try loadedModel() else { return nil }
        guard let detector = loaded.detector else { throw TrackerFileError.noDetector(path: model ?? "") }
        return HiFTLandmarkDetector(detector: detector)
    }

    func run() throws {
        runtime.apply()
        Parallel.configure(threads: runtime.resolvedThreads)
        try precisionOptions.apply()
        let factories = try trackerFactories()
        let directory = URL(fileURLWithPath: shards)
        guard FileManager.default.fileExists(atPath: directory.appendingPathComponent("manifest.json").path) else {
            throw ValidationError("\(shards) is not a shard dataset (no manifest.json); make one with `fluoro synth` or `fluoro pack`")
        }
        let dataset = try ShardDataset(directory: directory)
        var evaluator = TrackingEvaluator(task: task, detector: try detector(), threads: runtime.resolvedThreads)
        evaluator.oneStep = oneStep
        var evaluations: [TrackingEvaluation] = []
        for factory in factories {
            let tracker = try factory.make()
            let progress = ProgressLine("evaluate \(factory.name)", total: try evaluator.annotatedRuns(in: dataset).count, unit: "runs")
            var done = 0
            evaluations.append(try evaluator.evaluate(tracker, on: dataset) { _ in done += 1; progress.update(done) })
            progress.finish()
        }
        try writeOutputs(evaluations, dataset: dataset)
    }

    /// The table or JSON on stdout, then the CSV and plots if asked for.
    func writeOutputs(_ evaluations: [TrackingEvaluation], dataset: ShardDataset) throws {
        if json {
            print(String(decoding: try EvaluationReport.json(evaluations), as: UTF8.self))
        } else {
            print("task \(task.rawValue): \(dataset.directory.path)")
            print(EvaluationReport.table(evaluations), terminator: "")
        }
        if let perFrame {
            let url = URL(fileURLWithPath: perFrame)
            do { try Data(EvaluationReport.perFrameCSV(evaluations).utf8).write(to: url, options: .atomic) } catch {
                throw ValidationError("cannot write --per-frame \(perFrame): \(error.localizedDescription)")
            }
        }
        if let plots {
            let written = try EvaluationPlots.write(evaluations, dataset: dataset, to: URL(fileURLWithPath: plots))
            if !json { print("plots: \(written.map(\.lastPathComponent).joined(separator: ", ")) in \(plots)") }
        }
    }
}

extension TrackingTask: ExpressibleByArgument {}
