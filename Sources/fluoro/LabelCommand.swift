import ArgumentParser
import FluoroLabels
import FluoroShards
import FluoroSupport
import FluoroTensor
import Foundation

/// `fluoro label`: the weak-label pass (METHOD §9) — writes the vesselness layer into a dataset.
struct LabelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "label",
        abstract: "Write the vesselness layer (Frangi or the U-Net, METHOD §9) into every sequence of a shard dataset that lacks it.",
        discussion: """
            The layer is appended to each shard in place (the frames are not rewritten) and committed shard \
            by shard, so an interrupted pass can simply be run again: sequences that already have the layer \
            are skipped. --replace relabels them all. --method unet needs --model, a labeller from \
            `fluoro train-labeller` (e.g. docs/models/unet-labeller.safetensors); it takes any frame size (frames \
            are edge-padded to a multiple of 16 and cropped back).
            """)

    /// The labelling methods that exist.
    enum Method: String, ExpressibleByArgument, CaseIterable {
        case frangi
        case unet
    }

    @Option(help: "Dataset directory (with manifest.json).")
    var shards: String

    @Option(help: "Labelling method: \(Method.allCases.map(\.rawValue).joined(separator: ", ")).")
    var method: Method = .frangi

    @Option(help: "The U-Net labeller file for --method unet (fluoro train-labeller's <run>/labeller.safetensors).")
    var model: String?

    @Option(help: "Frames filtered in parallel (default: the cores available).")
    var threads: Int?

    @OptionGroup var scale: WorkingSideOption

    @Flag(help: "Relabel sequences that already have a vesselness layer.")
    var replace = false

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
        if method == .unet && model == nil { throw ValidationError("--method unet needs --model FILE (a labeller from `fluoro train-labeller`)") }
        if method == .frangi && model != nil { throw ValidationError("--model is for --method unet") }
        if method == .frangi && scale.workingSide != nil { throw ValidationError("--working-side is for --method unet") }
    }

    /// The chosen labeller as one function: (dataset, sequence, progress) -> the layer.
    func makeLabeller(threads: Int) throws -> (ShardDataset, Int, (Int) -> Void) throws -> Data {
        switch method {
        case .frangi:
            let labeller = VesselnessLabeller(filter: FrangiFilter(), threads: threads)
            return { try labeller.label(dataset: $0, sequence: $1, chunk: 4 * threads, progress: $2) }
        case .unet:
            Parallel.configure(threads: threads)
            let labeller = try UNetLabeller(model: URL(fileURLWithPath: model!), batch: threads, workingSide: scale.workingSide)
            print("label: U-Net " + (labeller.workingSide.map { "at a working side of \($0) px (larger frames reduced by a whole factor)" } ?? "on frames as stored"))
            return { try labeller.label(dataset: $0, sequence: $1, chunk: 4 * threads, progress: $2) }
        }
    }

    func run() throws {
        let directory = URL(fileURLWithPath: shards)
        guard FileManager.default.fileExists(atPath: directory.appendingPathComponent("manifest.json").path) else {
            throw ValidationError("\(shards) is not a shard dataset (no manifest.json); make one with `fluoro pack` or `fluoro synth`")
        }
        let dataset = try ShardDataset(directory: directory)
        let todo = (0 ..< dataset.sequenceCount).filter { replace || !dataset.layerKinds(sequence: $0).contains(.vesselness) }
        let totalFrames = todo.reduce(0) { $0 + dataset.info(sequence: $1).frameCount }
        let skipped = dataset.sequenceCount - todo.count
        let threadCount = threads ?? CoreBudget.defaultThreads
        let labelFrames: (ShardDataset, Int, (Int) -> Void) throws -> Data
        do { labelFrames = try makeLabeller(threads: threadCount) } catch {
            throw ValidationError("\(error)")
        }
        let start = Date()
        let progress = ProgressLine("label", total: totalFrames, unit: "frames")
        var framesBefore = 0, labelled = 0
        if !todo.isEmpty {
            try ShardLayers.add(.vesselness, to: directory, sequences: Set(todo), replace: replace) { info, index in
                let layer = try labelFrames(dataset, index) { done in progress.update(framesBefore + done) }
                framesBefore += info.frameCount
                labelled += 1
                return layer
            }
        }
        let seconds = Date().timeIntervalSince(start)
        progress.finish()
        let rate = seconds > 0 ? Double(framesBefore) / seconds : 0
        print("labelled \(labelled) sequence(s), \(framesBefore) frames in \(String(format: "%.1f", seconds)) s "
              + "(\(String(format: "%.1f", rate)) frames/s, \(method.rawValue), \(threadCount) thread(s)); "
              + "skipped \(skipped) sequence(s) that already had vesselness")
    }
}
