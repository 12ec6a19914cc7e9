import ArgumentParser
import FluoroShards
import FluoroSim
import FluoroSupport
import Foundation

/// `fluoro synth`: synthetic angiography / fluoroscopy runs with exact labels, written as shards.
struct SynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Generate synthetic X-ray runs (METHOD §12) with vessel/catheter masks, vesselness, tip and marker labels, into a shard dataset.",
        discussion: """
            Sequence i is a pure function of (settings, seed, i): the same command gives the same bytes on any \
            machine and thread count. Appending to an existing dataset adds shards after its last; use --start \
            so the new sequence ids (syn-<seed>-<index>) do not repeat.
            """)

    @Option(help: "Dataset directory to create or append to (not needed with --dry-run).")
    var out: String?

    @Option(help: "Number of sequences.")
    var sequences = 16

    @Option(help: "Index of the first sequence.")
    var start = 0

    @Option(help: "A SimulatorConfig JSON file (any subset of its fields); the options below override it.")
    var config: String?

    @Option(help: "Frames per sequence (default 32).")
    var frames: Int?

    @Option(help: "Frame side in pixels (default 256).")
    var size: Int?

    @Option(help: "angio, fluoro or mixed (default mixed).")
    var kind: RunKind?

    @Option(help: "Base seed (default 0).")
    var seed: UInt64?

    @Option(help: "Probability of a guidewire and balloon with markers per run (default 0.75).")
    var balloonProbability: Double?

    @Flag(help: "No distractor devices (other wires, sternal wires, clips).")
    var noDistractors = false

    @Option(help: "Target shard size in MiB.")
    var shardMb = 256

    @Flag(help: "Generate and discard (no shards written): measures the simulator's speed.")
    var dryRun = false

    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        if out == nil && !dryRun { throw ValidationError("give --out DIR, or --dry-run to generate without writing") }
        if sequences < 1 { throw ValidationError("--sequences must be at least 1, got \(sequences)") }
        if shardMb < 1 { throw ValidationError("--shard-mb must be at least 1, got \(shardMb)") }
    }

    /// The simulator settings: the JSON file (if any), then the options.
    func simulatorConfig() throws -> SimulatorConfig {
        var c = SimulatorConfig()
        if let config {
            do {
                c = try JSONDecoder().decode(SimulatorConfig.self, from: Data(contentsOf: URL(fileURLWithPath: config)))
            } catch {
                throw ValidationError("cannot read simulator config \(config): \(error.localizedDescription). Give a JSON object with fields such as {\"size\": 256, \"kind\": \"angio\"}.")
            }
        }
        if let frames { c.frames = frames }
        if let size { c.size = size }
        if let kind { c.kind = kind }
        if let seed { c.seed = seed }
        if let balloonProbability { c.balloonProbability = balloonProbability }
        if noDistractors { c.distractors = false }
        if let problem = c.validationProblem() { throw ValidationError(problem) }
        return c
    }

    func run() throws {
        let settings = try simulatorConfig()
        let threads = runtime.resolvedThreads
        let simulator = XRaySimulator(config: settings)
        let writer = try out.map { try ShardDatasetWriter(directory: URL(fileURLWithPath: $0), targetShardBytes: shardMb << 20) }
        let total = sequences * settings.frames
        let progress = ProgressLine("synth", total: total, unit: "frames")
        let began = Date()
        var frames = 0, angio = 0, occluded = 0
        try simulator.sequences(start ..< start + sequences, threads: threads) { sequence in
            try writer?.append(sequence)
            frames += sequence.info.frameCount
            if sequence.info.source == "synth:angio" { angio += 1 }
            occluded += sequence.annotations.filter(\.occluded).count
            progress.update(frames)
        }
        let manifest = try writer?.finish()
        let seconds = Date().timeIntervalSince(began)
        progress.finish()
        let rate = Double(frames) / max(seconds, 1e-9)
        var line = "synth: \(sequences) sequences (\(angio) angio, \(sequences - angio) fluoro), \(frames) frames of "
            + "\(settings.size)x\(settings.size), \(occluded) occluded, in \(String(format: "%.2f", seconds)) s: "
            + "\(String(format: "%.1f", rate)) frames/s on \(threads) thread(s)"
        if let out, let manifest { line += "; dataset \(out) now holds \(manifest.shards.count) shard(s)" }
        print(line)
    }
}

extension RunKind: ExpressibleByArgument {}
