import ArgumentParser
import FluoroLabels
import FluoroShards
import FluoroSupport
import FluoroTensor
import Foundation

/// `fluoro evaluate-labels`: Frangi and the U-Net against exact vessel masks (METHOD §9).
struct EvaluateLabelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate-labels",
        abstract: "Score the Frangi and U-Net vesselness labellers against a simulated dataset's exact vessel masks.",
        discussion: """
            Every frame of every sequence with a vessel_mask layer is labelled by both methods (after scaling its \
            contrast about the frame mean by each --contrast factor) and scored against the vessels that hold \
            contrast: Dice at 0.5 and at the best threshold, ROC AUC and precision at 90% recall. Use a dataset \
            the labeller was not trained on (another --seed of fluoro synth; vary photonsPerPixel with --config).
            """)

    @Option(help: "Simulated shard dataset with vessel masks (held out from training).")
    var shards: String

    @Option(help: "The U-Net labeller file (fluoro train-labeller); without it only Frangi is scored.")
    var model: String?

    @Option(help: "Comma-separated contrast factors applied before labelling (1 = as stored).")
    var contrast = "1"

    @Option(help: "At most this many frames per sequence.")
    var maxFrames = Int.max

    @Option(help: "Write the numbers as JSON here.")
    var json: String?

    @OptionGroup var scale: WorkingSideOption

    @OptionGroup var runtime: RuntimeOptions

    func run() throws {
        let factors = contrast.split(separator: ",").compactMap { Double($0) }
        guard !factors.isEmpty, factors.allSatisfy({ $0 > 0 }) else { throw ValidationError("--contrast takes positive factors, e.g. 0.5,1") }
        let threads = runtime.resolvedThreads
        Parallel.configure(threads: threads)
        let dataset = try ShardDataset(directory: URL(fileURLWithPath: shards))
        guard (0..<dataset.sequenceCount).contains(where: { dataset.layerKinds(sequence: $0).contains(.vesselMask) }) else {
            throw ValidationError("\(shards) has no sequence with a vessel_mask layer: evaluate on `fluoro synth` data")
        }
        let unet: UNetLabeller?
        do { unet = try model.map { try UNetLabeller(model: URL(fileURLWithPath: $0), batch: threads, workingSide: scale.workingSide) } } catch { throw ValidationError("\(error)") }
        let comparison = LabellerComparison(dataset: dataset, frangi: VesselnessLabeller(threads: threads), unet: unet)
        var report: [String: [String: [String: Double]]] = [:]
        print("contrast  method  Dice@0.5  Dice(best)   AUC     P@90%R")
        for factor in factors {
            let results = try comparison.run(contrast: factor, maxFramesPerSequence: maxFrames)
            for (name, m) in results.sorted(by: { $0.key < $1.key }) {
                print(String(format: "%8.2f  %@  %8.3f  %10.3f  %.4f  %7.3f", factor, name.padding(toLength: 6, withPad: " ", startingAt: 0), m.diceAtHalf, m.bestDice.dice, m.auc, m.precision()))
                report[String(factor), default: [:]][name] = m.summary
            }
        }
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            try encoder.encode(["shards": [shards: report]]).write(to: URL(fileURLWithPath: json))
        }
    }
}
