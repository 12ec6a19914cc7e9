import ArgumentParser
import FluoroPlot
import FluoroShards
import FluoroTraining
import Foundation

/// `fluoro reconstruct`: the reconstruction panel of any checkpoint on any shard dataset.
struct ReconstructCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconstruct",
        abstract: "Render a checkpoint's reconstruction panel (original, masked input, reconstruction, vesselness target and prediction) as PNG.",
        discussion: "The clips are the first frames of the chosen sequences, centre-cropped, with the fixed panel masks that pretraining's own panels use.")

    @Option(name: .customLong("run"), help: "The run directory holding the checkpoints.")
    var runDirectory: String

    @Option(help: "The checkpoint step (default: the latest complete one).")
    var step: Int?

    @Option(help: "The shard dataset to take clips from.")
    var shards: String

    @Option(help: "A sequence index to show (repeatable; default: the first sequences long enough for a clip).")
    var sequence: [Int] = []

    @Option(help: "Clips shown when no --sequence is given.")
    var clips = 3

    @Option(help: "Output PNG file.")
    var out: String

    func validate() throws {
        if clips < 1 { throw ValidationError("--clips must be at least 1") }
        if !FileManager.default.fileExists(atPath: URL(fileURLWithPath: shards).appendingPathComponent("manifest.json").path) {
            throw ValidationError("\(shards) is not a shard dataset (no manifest.json)")
        }
    }

    func run() throws {
        let store = CheckpointStore(runDirectory: URL(fileURLWithPath: runDirectory))
        let checkpoint = try step.map { try CheckpointStore.load(store.directory.appendingPathComponent(String(format: "step-%08d", $0))) }
            ?? store.latest()
        let source = try ShardDataset(directory: URL(fileURLWithPath: shards))
        let image = try ReconstructionViews.panel(checkpoint: checkpoint, source: source, sequences: sequence.isEmpty ? nil : sequence,
                                                  count: clips, name: shards)
        try image.write(to: URL(fileURLWithPath: out))
        print("reconstruct: step \(checkpoint.step) of \(runDirectory), \(image.width)x\(image.height) panel in \(out)")
    }
}
