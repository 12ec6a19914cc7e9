import ArgumentParser
import FluoroDistributed
import FluoroModel
import FluoroSupport
import FluoroTraining
import Foundation

/// `fluoro bench step`: a whole training step's speed and memory, optionally against the PyTorch
/// reference measured in the same run.
struct BenchStepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "step",
        abstract: "Time forward + backward + all-reduce + AdamW (median of repeats); report clips/s, GFLOP/s, peak memory.",
        discussion: """
            Under mpirun each rank runs the step on its own batch and gradients are averaged, so the \
            communication share shows. --reference runs the PyTorch reference's bench with the same preset, \
            batch and threads right after, in the same run (needs python3 with torch); with --precision bf16 the \
            reference runs under bf16 autocast (its --amp). Use a release build.
            """)

    @Option(help: "Model preset: tiny, bench, small or base.")
    var preset = "bench"

    @Option(help: "Clips per rank (default: the reference's batch for the preset, else 4).")
    var batch: Int?

    @Option(help: "Timed steps (after two warm-up steps).")
    var steps = 10

    @Option(help: "Path to the PyTorch reference, reference/fimae_sc_reference.py in this repository: also time PyTorch in this run.")
    var reference: String?

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @OptionGroup var runtime: RuntimeOptions

    @OptionGroup var precisionOptions: PrecisionOptions

    func run() throws {
        let communicator: Communicator = try checkedProcessCommunicator()
        let config = try ModelConfig.preset(preset)
        let batch = self.batch ?? (["tiny": 2, "bench": 4, "small": 2][preset] ?? 4)
        let threads = runtime.resolvedThreads
        try precisionOptions.apply()
        let precision = precisionOptions.resolved
        let ours = try StepBenchmark.run(config: config, batch: batch, steps: steps, threads: threads, communicator: communicator)
        guard communicator.isCoordinator else { return }
        var theirs: ReferenceBenchmark.Result?
        if let reference, communicator.size == 1 {
            theirs = try ReferenceBenchmark.run(script: reference, preset: preset, batch: batch, threads: threads, steps: steps,
                                               amp: precision == .bf16)
        }
        let mib = { (bytes: Int) in Double(bytes) / 1_048_576 }
        if json {
            var object: [String: Any] = [
                "preset": preset, "precision": precision.rawValue, "batch_per_rank": batch, "ranks": ours.ranks, "threads": threads,
                "step_ms": ours.stepSeconds * 1e3, "compute_ms": ours.computeSeconds * 1e3,
                "allreduce_ms": ours.communicationSeconds * 1e3, "adamw_ms": ours.optimizerSeconds * 1e3,
                "clips_per_s": ours.clipsPerSecond, "gflops": ours.gflops, "peak_rss_mib": mib(ours.peakResidentBytes),
                "parameters": ours.parameters,
                "sections_ms": ours.sections.mapValues { $0 * 1e3 },
            ]
            if let theirs {
                object["pytorch_step_ms"] = theirs.stepSeconds * 1e3
                object["pytorch_clips_per_s"] = theirs.clipsPerSecond
                object["pytorch_peak_rss_mib"] = mib(theirs.peakResidentBytes)
                object["speedup"] = ours.clipsPerSecond / theirs.clipsPerSecond
            }
            print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
            return
        }
        print(String(format: "fluoro  preset %@%@, %d rank(s) x batch %d, %d thread(s): step %.1f ms (compute %.1f, all-reduce %.1f, AdamW %.1f), %.2f clips/s, %.1f GFLOP/s per rank, peak RSS %.0f MiB, %d parameters",
                     preset, precision == .bf16 ? " (bf16 matrix products)" : "", ours.ranks, batch, threads, ours.stepSeconds * 1e3, ours.computeSeconds * 1e3,
                     ours.communicationSeconds * 1e3, ours.optimizerSeconds * 1e3, ours.clipsPerSecond, ours.gflops,
                     mib(ours.peakResidentBytes), ours.parameters))
        let phases = ours.sections.sorted { $0.value > $1.value }
            .map { String(format: "%@ %.1f ms", $0.key, $0.value * 1e3) }.joined(separator: ", ")
        print("        where the time goes: " + phases + String(format: ", AdamW %.1f ms", ours.optimizerSeconds * 1e3))
        if ours.ranks > 1 {
            print(String(format: "        communication: %.1f%% of the step", 100 * ours.communicationSeconds / ours.stepSeconds))
        }
        if let theirs {
            print(String(format: "pytorch preset %@%@, batch %d, %d thread(s): step %.1f ms, %.2f clips/s, peak RSS %.0f MiB",
                         preset, precision == .bf16 ? " (bf16 autocast)" : "", batch, threads, theirs.stepSeconds * 1e3, theirs.clipsPerSecond, mib(theirs.peakResidentBytes)))
            print(String(format: "fluoro / pytorch throughput: %.2fx; peak memory %.2fx", ours.clipsPerSecond / theirs.clipsPerSecond,
                         Double(ours.peakResidentBytes) / Double(max(1, theirs.peakResidentBytes))))
        }
    }
}
