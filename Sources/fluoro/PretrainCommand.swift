import ArgumentParser
import FluoroDistributed
import FluoroModel
import FluoroShards
import FluoroSupport
import FluoroTensor
import FluoroTraining
import Foundation

/// `fluoro pretrain`: FIMAE-SC pretraining on shards, one process or many under mpirun.
struct PretrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pretrain",
        abstract: "Pretrain FIMAE-SC on a shard dataset (run under mpirun for several ranks).",
        discussion: """
            Under mpirun every rank trains on its slice of each global batch (ranks x --batch clips) and \
            gradients are averaged; rank 0 prints, writes <run>/metrics.jsonl, <run>/config.json, TensorBoard \
            events in <run>/tensorboard and reconstruction panels in <run>/images, and checkpoints into <run>/checkpoints. --resume continues the latest complete checkpoint exactly, also \
            with another rank count that divides the same global batch.
            """)

    @Option(help: "The shard dataset to train on (fluoro synth / fluoro pack output).")
    var shards: String

    @Option(name: .customLong("run"), help: "Run directory: config, metrics and checkpoints go here.")
    var runDirectory: String

    @Option(help: "Model preset: tiny, bench, small or base (default: tiny).")
    var preset: String?

    @Option(help: "A JSON file overriding any ModelConfig field of the preset, e.g. {\"depth\": 6, \"wVes\": 0}.")
    var config: String?

    @Option(help: "Optimisation steps in the whole run (default: 200; on --resume, the run's own total).")
    var steps: Int?

    /// Steps of a fresh run when `--steps` is not given.
    static let defaultSteps = 200

    @Option(help: "Clips per rank per step; the global batch is ranks x batch (default: 4).")
    var batch: Int?

    @Option(help: "Sum the gradients of N micro-batches of --batch clips before each update: the same update as N times the batch, in the memory of one (default: 1; the global batch is ranks x batch x N).")
    var accumulate: Int?

    @Option(help: "Seed of initialisation, data order, crops and masks (default: 0).")
    var seed: UInt64?

    @Option(help: "Checkpoint every K steps (a checkpoint is always written at the end).")
    var checkpointEvery: Int?

    @Option(help: "Checkpoint every M minutes.")
    var checkpointMinutes: Double?

    @Option(help: "Complete checkpoints to keep.")
    var keep = 3

    @Option(help: "Base learning rate before scaling by global batch / 256 (default: 1.5e-4).")
    var lr: Double?

    @Option(help: "Clip gradients to this global norm (default: off).")
    var clipGrad: Float?

    @Option(help: "Gradient all-reduce bucket size in MiB.")
    var bucketMb: Double = 1

    @Option(name: .customLong("resume"), help: ArgumentHelp("Continue a run: 'latest' (the newest complete checkpoint in --run) or a checkpoint directory.", valueName: "latest|PATH"))
    var resumeFrom: String?

    @Flag(name: .customLong("resume-latest"), help: "Same as --resume latest.")
    var resumeLatest = false

    @Option(help: "Stop cleanly with a checkpoint after this step (resume later with --resume latest).")
    var stopAt: Int?

    @Option(help: "Stop cleanly with a checkpoint after this many minutes (for time-limited or preemptible jobs).")
    var timeLimit: Double?

    @Flag(help: "Start averaging the decoders' gradients while the encoder's backward runs (non-blocking all-reduce); the same bits on 2 ranks, last-bit rounding may differ on more.")
    var overlapAllreduce = false

    @Option(help: "Render a reconstruction panel (RUN/images/step-N.png and TensorBoard) every K steps (default: at each checkpoint only).")
    var imagesEvery: Int?

    @Option(help: "Clips in the reconstruction panel: the first sequences of the dataset (0 = no panels).")
    var panelClips = 3

    @Option(help: "Loader worker threads.")
    var loaderWorkers = 2

    @Option(help: "Print a progress line every N steps (default: about 50 lines per run).")
    var logEvery: Int?

    @Option(help: "End the job if a step makes no progress for this many seconds (0 = never).")
    var stallTimeout: Double = 600

    @Option(help: "Compare every rank's parameters (a hash) after every K steps and stop naming the step and the rank that differs (default: once, after loading).")
    var checkReplicas: Int?

    @Flag(help: "Skip the update of a step whose averaged gradient holds NaN or Inf (default: stop naming the step and tensor).")
    var skipNonfinite = false

    @Option(help: "Held-out shards for a validation loss (fixed clips, crops and masks), in the progress line, metrics.jsonl (val_loss) and TensorBoard (val/loss).")
    var valShards: String?

    @Option(help: "Evaluate the validation loss every K steps and at the end (default with --val-shards: about 20 times per run).")
    var valEvery: Int?

    @Option(help: "Validation clips (one per held-out sequence first, then more crops of them).")
    var valClips = 16

    @Flag(help: "Train sequences without a vesselness layer on zero maps instead of stopping.")
    var allowMissingVesselness = false

    @OptionGroup var runtime: RuntimeOptions

    @OptionGroup var precisionOptions: PrecisionOptions

    func validate() throws {
        if let steps, steps < 1 { throw ValidationError("--steps must be at least 1") }
        if let batch, batch < 1 { throw ValidationError("--batch must be at least 1") }
        if let accumulate, accumulate < 1 { throw ValidationError("--accumulate must be at least 1") }
        if let logEvery, logEvery < 1 { throw ValidationError("--log-every must be at least 1") }
        if let stopAt, stopAt < 1 { throw ValidationError("--stop-at must be at least 1") }
        if let timeLimit, !(timeLimit > 0) { throw ValidationError("--time-limit must be a positive number of minutes") }
        if let checkpointMinutes, !(checkpointMinutes > 0) { throw ValidationError("--checkpoint-minutes must be positive") }
        if let lr, !(lr > 0) { throw ValidationError("--lr must be positive") }
        if resumeFrom != nil && resumeLatest { throw ValidationError("give --resume PATH or --resume-latest, not both") }
        if let checkpointEvery, checkpointEvery < 1 { throw ValidationError("--checkpoint-every must be at least 1") }
        if let checkReplicas, checkReplicas < 1 { throw ValidationError("--check-replicas must be at least 1") }
        if let imagesEvery, imagesEvery < 1 { throw ValidationError("--images-every must be at least 1") }
        if panelClips < 0 { throw ValidationError("--panel-clips must be 0 or more") }
        if let valEvery, valEvery < 1 { throw ValidationError("--val-every must be at least 1") }
        if valClips < 1 { throw ValidationError("--val-clips must be at least 1") }
        if valEvery != nil && valShards == nil { throw ValidationError("--val-every needs --val-shards DIR (held-out shards)") }
        if let valShards, !FileManager.default.fileExists(atPath: URL(fileURLWithPath: valShards).appendingPathComponent("manifest.json").path) {
            throw ValidationError("--val-shards \(valShards) is not a shard dataset (no manifest.json)")
        }
        if keep < 1 { throw ValidationError("--keep must be at least 1") }
        if !(bucketMb >= 0.001) { throw ValidationError("--bucket-mb must be at least 0.001 (1 KiB)") }
        if !FileManager.default.fileExists(atPath: URL(fileURLWithPath: shards).appendingPathComponent("manifest.json").path) {
            throw ValidationError("\(shards) is not a shard dataset (no manifest.json); make one with `fluoro synth` or `fluoro pack`")
        }
    }

    /// The model config: the preset, then the JSON overrides.
    func modelConfig() throws -> ModelConfig {
        var model = try ModelConfig.preset(preset ?? "tiny")
        if let config {
            let data: Data
            do { data = try Data(contentsOf: URL(fileURLWithPath: config)) } catch {
                throw ConfigError.unreadable(file: config, reason: error.localizedDescription)
            }
            model = try model.overriding(withJSON: data, file: config)
        }
        return model
    }

    func run() throws {
        let communicator: Communicator = try checkedProcessCommunicator()
        if communicator.size > 1 { Log.rank = communicator.rank }
        do {
            try train(communicator)
        } catch {
            Log.error("rank \(communicator.rank) of \(communicator.size): \(error)")
            if communicator.size > 1 {
                Log.error("rank \(communicator.rank) is ending the whole job")
                communicator.abort(code: 1)
            }
            throw ExitCode(1)
        }
    }

    func train(_ communicator: Communicator) throws {
        let threads = runtime.resolvedThreads
        Parallel.configure(threads: threads)
        // The loader allocates several MB per batch; keep those buffers in the heap for reuse
        // (measured: 2 loader workers ran slower than 1 with glibc's default trimming).
        _ = AllocatorTuning.keepLargeBuffersInHeap()
        var settings = TrainingSettings(model: try modelConfig(), preset: preset ?? "tiny", steps: steps ?? Self.defaultSteps, batchPerRank: batch ?? 4,
                                        ranks: communicator.size, seed: seed ?? 0)
        settings.accumulationSteps = accumulate ?? 1
        if let lr { settings.baseLearningRate = lr }
        settings.clipGradientNorm = clipGrad
        settings.checkpointEvery = checkpointEvery
        settings.checkpointMinutes = checkpointMinutes
        settings.keepCheckpoints = keep
        settings.bucketBytes = max(4, Int(bucketMb * 1_048_576) / 4 * 4)
        if valShards != nil {
            settings.validationEvery = valEvery ?? max(1, (steps ?? Self.defaultSteps) / 20)
            settings.validationClips = valClips
        }
        settings.precision = precisionOptions.resolved
        var options = Pretrainer.Options(shards: URL(fileURLWithPath: shards), run: URL(fileURLWithPath: runDirectory), settings: settings)
        if resumeLatest || resumeFrom == "latest" { options.resume = .latest }
        else if let resumeFrom { options.resume = .path(URL(fileURLWithPath: resumeFrom)) }
        options.stepsGiven = steps != nil
        options.skipNonFiniteGradients = skipNonfinite
        options.checkReplicasEvery = checkReplicas
        options.fault = FaultInjection.fromEnvironment  // FLUORO_FAULT, for fault tests of the command
        options.threads = threads
        options.loaderWorkers = loaderWorkers
        options.logEvery = logEvery
        options.allowMissingVesselness = allowMissingVesselness
        options.stallTimeout = stallTimeout > 0 ? stallTimeout : nil
        options.stopAtStep = stopAt
        options.overlapAllReduce = overlapAllreduce
        options.timeLimitMinutes = timeLimit
        options.imagesEvery = imagesEvery
        options.panelClips = panelClips
        options.validationShards = valShards.map { URL(fileURLWithPath: $0) }
        options.explicit = Set([preset != nil || config != nil ? .model : nil, seed != nil ? .seed : nil,
                                lr != nil ? .learningRate : nil, batch != nil ? .batch : nil,
                                clipGrad != nil ? .clipGradient : nil, accumulate != nil ? .accumulate : nil,
                                precisionOptions.precision != nil ? .precision : nil].compactMap { $0 })
        options.allowBF16Emulation = precisionOptions.allowBF16Emulation
        let summary = try Pretrainer(options: options, communicator: communicator).run()
        if communicator.isCoordinator {
            let first = summary.firstLoss.map { String(format: "%.4f", $0) } ?? "-"
            let last = summary.lastLoss.map { String(format: "%.4f", $0) } ?? "-"
            print("pretrain: steps \(summary.firstStep)->\(summary.lastStep), loss \(first) -> \(last), "
                  + String(format: "%.1f clips/s, %.0f%% of step time in communication", summary.clipsPerSecond, 100 * summary.communicationShare))
            if let checkpoint = summary.lastCheckpoint { print("pretrain: checkpoint \(checkpoint.path)") }
        }
    }
}
