import ArgumentParser
import FluoroDistributed
import FluoroLabels
import FluoroShards
import FluoroSupport
import FluoroTensor
import FluoroTraining
import Foundation

/// `fluoro train-labeller`: the vesselness U-Net (METHOD §9) on frames with exact vessel masks.
struct TrainLabellerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-labeller",
        abstract: "Train the U-Net vesselness labeller (METHOD §9) on shards with vessel masks, one process or under mpirun.",
        discussion: """
            Samples are random square crops (--crop, 256) of frames with a vessel_mask layer (fluoro synth writes \
            them), augmented with gamma, contrast, blur, noise, flips and a random shutter; the loss is soft Dice + \
            BCE; AdamW with warm-up and cosine decay. Every 10th masked sequence is held out: Dice and AUC on it are \
            printed and logged as it trains. Rank 0 writes <run>/labeller.json, metrics.jsonl, checkpoints/ and, at \
            the end, <run>/labeller.safetensors for `fluoro label --method unet --model`.
            """)

    @Option(help: "Shard dataset with vessel masks (fluoro synth).")
    var shards: String

    @Option(name: .customLong("run"), help: "Run directory.")
    var runDirectory: String

    @Option(help: "Network: standard (METHOD §9: 16-32-64-128, bottleneck 256) or tiny (tests).")
    var preset = "standard"

    @Option(help: "Optimisation steps (default 300; on --resume, the run's own).")
    var steps: Int?

    @Option(help: "Crops per rank per step.")
    var batch = 4

    @Option(help: "Side of the training crops, a multiple of 16.")
    var crop = 256

    @Option(help: "Seed of initialisation and of the crop stream.")
    var seed: UInt64 = 0

    @Option(help: "Peak learning rate.")
    var lr = 1e-3

    @Option(help: "Held-out validation every N steps (and at the end).")
    var validateEvery = 50

    @Option(help: "Held-out crops per validation.")
    var validationCrops = 8

    @Option(help: "Checkpoint every K steps (one is always written at the end).")
    var checkpointEvery: Int?

    @Option(help: ArgumentHelp("Continue the run from its latest complete checkpoint.", valueName: "latest"))
    var resume: String?

    @Option(help: "Stop cleanly with a checkpoint after this step.")
    var stopAt: Int?

    @Option(help: "Print progress every N steps.")
    var logEvery: Int?

    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        if let resume, resume != "latest" { throw ValidationError("--resume takes 'latest'") }
        if let steps, steps < 1 { throw ValidationError("--steps must be at least 1") }
        if batch < 1 { throw ValidationError("--batch must be at least 1") }
        if crop < 16 || crop % 16 != 0 { throw ValidationError("--crop must be a positive multiple of 16, got \(crop)") }
        if !(lr > 0) { throw ValidationError("--lr must be positive") }
        if validateEvery < 1 || validationCrops < 1 { throw ValidationError("--validate-every and --validation-crops must be at least 1") }
        if !FileManager.default.fileExists(atPath: URL(fileURLWithPath: shards).appendingPathComponent("manifest.json").path) {
            throw ValidationError("\(shards) is not a shard dataset (no manifest.json); make one with `fluoro synth`")
        }
    }

    func run() throws {
        let communicator = processCommunicator()
        if communicator.size > 1 { Log.rank = communicator.rank }
        do { try train(communicator) } catch {
            Log.error("rank \(communicator.rank) of \(communicator.size): \(error)")
            if communicator.size > 1 { communicator.abort(code: 1) }
            throw ExitCode(1)
        }
    }

    func train(_ communicator: Communicator) throws {
        Parallel.configure(threads: runtime.resolvedThreads)
        let run = URL(fileURLWithPath: runDirectory)
        var settings = LabellerSettings(config: try UNetConfig.preset(preset), steps: steps ?? 300, batchPerRank: batch,
                                        ranks: communicator.size, seed: seed)
        settings.crop = crop
        settings.learningRate = lr
        settings.minLearningRate = lr / 100
        settings.validateEvery = validateEvery
        settings.validationCrops = validationCrops
        settings.checkpointEvery = checkpointEvery
        var options = LabellerTrainer.Options(shards: URL(fileURLWithPath: shards), run: run, settings: settings)
        options.resume = resume != nil && FileManager.default.fileExists(atPath: LabellerTrainer.settingsURL(run: run).path)
        options.steps = steps
        options.threads = runtime.resolvedThreads
        options.logEvery = logEvery
        options.stopAt = stopAt
        let summary = try LabellerTrainer(options: options, communicator: communicator).run()
        guard communicator.rank == 0 else { return }
        print(String(format: "train-labeller: steps %d→%d, loss %.4f → %.4f, %.2f s/step", summary.firstStep, summary.lastStep,
                     summary.firstLoss ?? .nan, summary.lastLoss ?? .nan, summary.secondsPerStep))
        if let model = summary.model { print("train-labeller: labeller written to \(model.path)") }
        else { print("train-labeller: stopped at step \(summary.lastStep); continue with --resume latest") }
    }
}
