import ArgumentParser
import FluoroSupport
import FluoroTracking
import FluoroTraining
import Foundation

/// `fluoro bench track`: HiFT's fine-tuning step and tracking step, optionally beside the PyTorch
/// reference (`hift_reference.py bench`) in the same run.
struct BenchTrackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "track",
        abstract: "Time a HiFT fine-tuning step (batch B) and a tracking step (batch 1, crop to read-out); medians of repeats.",
        discussion: "--reference runs hift_reference.py bench with the same config, batch and threads right after (in fp32: it has no autocast option). Use a release build.")

    @Option(help: "Tracker preset: tiny or bench.")
    var preset = "bench"

    @Option(help: "Windows per fine-tuning step (default 8, the reference's bench batch).")
    var batch = 8

    @Option(help: "Timed steps (after two warm-up steps).")
    var steps = 10

    @Option(help: "Path to the PyTorch reference, reference/hift_reference.py in this repository: also time PyTorch in this run.")
    var reference: String?

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @OptionGroup var runtime: RuntimeOptions

    @OptionGroup var precisionOptions: PrecisionOptions

    func run() throws {
        let threads = runtime.resolvedThreads
        try precisionOptions.apply()
        let ours = try TrackBenchmark.run(config: try HiFTConfig.preset(preset), batch: batch, steps: steps, threads: threads)
        var theirs: (train: Double, track: Double, rss: Double)?
        if let reference {
            let text = try ReferenceBenchmark.output(script: reference, arguments: ["bench", "--config", preset, "--threads", "\(threads)",
                                                                                    "--steps", "\(steps)", "--batch", "\(batch)"])
            guard let train = ReferenceBenchmark.value("train_step_ms", in: text), let track = ReferenceBenchmark.value("track_ms", in: text),
                  let rss = ReferenceBenchmark.value("peak_rss_kb", in: text) else { throw ReferenceBenchmark.Failure.unparsable(text) }
            theirs = (train / 1e3, track / 1e3, rss * 1024)
        }
        if json {
            var object: [String: Any] = ["preset": preset, "precision": precisionOptions.resolved.rawValue, "batch": batch, "threads": threads, "parameters": ours.parameters,
                                         "train_step_ms": ours.trainStepSeconds * 1e3, "train_windows_per_s": ours.trainWindowsPerSecond,
                                         "track_ms": ours.trackStepSeconds * 1e3, "track_fps": ours.trackFramesPerSecond,
                                         "peak_rss_mib": Double(ours.peakResidentBytes) / 1_048_576]
            if let theirs {
                object["pytorch_train_step_ms"] = theirs.train * 1e3; object["pytorch_track_ms"] = theirs.track * 1e3
                object["train_speedup"] = theirs.train / ours.trainStepSeconds; object["track_speedup"] = theirs.track / ours.trackStepSeconds
            }
            print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
            return
        }
        print(String(format: "fluoro  HiFT %@%@, %d thread(s): fine-tuning step (batch %d) %.1f ms = %.2f windows/s; tracking step %.2f ms = %.1f frames/s; %d parameters, peak RSS %.0f MiB",
                     preset, precisionOptions.resolved == .bf16 ? " (bf16 matrix products)" : "", threads, batch, ours.trainStepSeconds * 1e3, ours.trainWindowsPerSecond, ours.trackStepSeconds * 1e3,
                     ours.trackFramesPerSecond, ours.parameters, Double(ours.peakResidentBytes) / 1_048_576))
        if let theirs {
            print(String(format: "pytorch HiFT %@, %d thread(s): fine-tuning step %.1f ms; tracking step %.2f ms = %.1f frames/s; peak RSS %.0f MiB",
                         preset, threads, theirs.train * 1e3, theirs.track * 1e3, 1 / theirs.track, theirs.rss / 1_048_576))
            print(String(format: "fluoro / pytorch speed: fine-tuning %.2fx, tracking %.2fx", theirs.train / ours.trainStepSeconds,
                         theirs.track / ours.trackStepSeconds))
        }
    }
}
