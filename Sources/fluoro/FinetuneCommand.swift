import ArgumentParser
import FluoroDistributed
import FluoroModel
import FluoroShards
import FluoroSupport
import FluoroTensor
import FluoroTracking
import FluoroTraining
import Foundation

/// `fluoro finetune`: HiFT from an exported encoder (or from scratch) on annotated shards.
struct FinetuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "finetune",
        abstract: "Fine-tune the HiFT tracker (METHOD §10) on annotated runs, one process or under mpirun.",
        discussion: """
            Samples are windows of W frames ending at an annotated frame, cropped around the landmarks \
            with a random offset, with noisy past estimates and flips/turns/gamma/noise. Rank 0 writes \
            <run>/finetune.json, metrics.jsonl, checkpoints/ and, at the end, <run>/tracker.safetensors \
            (for fluoro track / evaluate). With --detector the automatic-initialisation detector is trained \
            afterwards in <run>/detector/ and goes into the same tracker file.
            """)

    @Option(help: "Annotated shard dataset (fluoro synth --kind fluoro, or fluoro pack --annotations).")
    var shards: String

    @Option(name: .customLong("run"), help: "Run directory.")
    var runDirectory: String

    @Option(help: "What to track: tip (1 landmark) or markers (a pair).")
    var task: TrackingTask

    @Option(help: "An exported FIMAE/FIMAE-SC encoder (fluoro export); the tracker adopts its width, depth, heads, patch and tubelet.")
    var encoder: String?

    @Flag(help: "Start the encoder from random weights (the ablation's \"none\").")
    var fromScratch = false

    @Option(help: "Tracker preset: tiny or bench (default: bench).")
    var preset = "bench"

    @Option(help: "A JSON file overriding HiFTConfig fields, e.g. {\"window\": 4, \"appearanceTokens\": false}.")
    var config: String?

    @Option(help: "Optimisation steps (default 300; on --resume, the run's own).")
    var steps: Int?

    @Option(help: "Samples per rank per step (default 8).")
    var batch = 8

    @Option(help: "Seed of initialisation and of the sample stream.")
    var seed: UInt64 = 0

    @Option(help: "Peak learning rate (the paper's 2e-4).")
    var lr = 2e-4

    @Option(help: "The encoder's learning rate as a fraction of --lr (0 freezes it).")
    var encoderLrScale = 1.0

    @Option(help: "Clip the averaged gradients to this global norm before each update (default: off; logged as grad_norm).")
    var clipGrad: Float?

    @Flag(help: "Also train the automatic-initialisation detector (same steps), in <run>/detector.")
    var detector = false

    @Option(help: "Checkpoint every K steps (one is always written at the end).")
    var checkpointEvery: Int?

    @Option(help: "Complete checkpoints to keep.")
    var keep = 3

    @Option(help: ArgumentHelp("Continue the run from its latest complete checkpoint.", valueName: "latest"))
    var resume: String?

    @Option(help: "Stop cleanly with a checkpoint after this step.")
    var stopAt: Int?

    @Option(help: "Print progress every N steps.")
    var logEvery: Int?

    @OptionGroup var runtime: RuntimeOptions

    @OptionGroup var precisionOptions: PrecisionOptions

    func validate() throws {
        if (encoder == nil) == !fromScratch && resume == nil { throw ValidationError("give --encoder FILE or --from-scratch") }
        if let resume, resume != "latest" { throw ValidationError("--resume takes 'latest'") }
        if let steps, steps < 1 { throw ValidationError("--steps must be at least 1") }
        if batch < 1 { throw ValidationError("--batch must be at least 1") }
        if !(lr > 0) { throw ValidationError("--lr must be positive") }
        if !(encoderLrScale >= 0) { throw ValidationError("--encoder-lr-scale must be >= 0") }
        if let clipGrad, !(clipGrad > 0) { throw ValidationError("--clip-grad must be positive") }
        if !FileManager.default.fileExists(atPath: URL(fileURLWithPath: shards).appendingPathComponent("manifest.json").path) {
            throw ValidationError("\(shards) is not a shard dataset (no manifest.json); make one with `fluoro synth` or `fluoro pack`")
        }
    }

    /// The preset, adopting the encoder's shape, K from the task, then the JSON overrides.
    func trackerConfig() throws -> HiFTConfig {
        var c = try HiFTConfig.preset(preset)
        if let encoder { c = c.adopting(encoder: try EncoderExport.check(URL(fileURLWithPath: encoder))) }
        c.landmarks = task.landmarkCount
        if let config {
            let data: Data
            do { data = try Data(contentsOf: URL(fileURLWithPath: config)) } catch {
                throw ConfigError.unreadable(file: config, reason: error.localizedDescription)
            }
            c = try c.overriding(withJSON: data, file: config)
        }
        try c.validate()
        return c
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
        Parallel.configure(threads: runtime.resolvedThreads)  // also puts OpenBLAS on one thread
        // Batches and loss buffers are several MB each step: keep them in the heap (no page faults).
        _ = AllocatorTuning.keepLargeBuffersInHeap()
        let run = URL(fileURLWithPath: runDirectory)
        var settings = FinetuneSettings(config: try trackerConfig(), task: task, steps: steps ?? 300, batchPerRank: batch,
                                        ranks: communicator.size, seed: seed)
        settings.learningRate = lr
        settings.minLearningRate = lr / 20
        settings.encoderRateScale = encoderLrScale
        settings.clipGradientNorm = clipGrad
        settings.encoder = encoder
        settings.encoderHash = try encoder.map { String(format: "%016llx", XXHash64.hash(try Data(contentsOf: URL(fileURLWithPath: $0)))) }
        settings.checkpointEvery = checkpointEvery
        settings.keepCheckpoints = keep
        settings.precision = precisionOptions.resolved
        try fineTune(settings, run: run, communicator)
        if let stopAt, stopAt < settings.steps {
            if communicator.rank == 0 { print("finetune: stopped at step \(stopAt); continue with --resume latest") }
            return
        }
        if detector {
            settings.target = .detector
            try fineTune(settings, run: FinetuneRun.detectorRun(of: run), communicator)
        }
        if communicator.rank == 0 {
            let out = run.appendingPathComponent("tracker.safetensors")
            try FinetuneRun.export(run: run, to: out)
            print("finetune: tracker written to \(out.path)")
        }
    }

    func fineTune(_ settings: FinetuneSettings, run: URL, _ communicator: Communicator) throws {
        var options = Finetuner.Options(shards: URL(fileURLWithPath: shards), run: run, settings: settings)
        options.encoder = encoder.map { URL(fileURLWithPath: $0) }
        options.resume = resume != nil && FileManager.default.fileExists(atPath: Finetuner.settingsURL(run: run).path)
        options.steps = steps
        options.threads = runtime.resolvedThreads
        options.logEvery = logEvery
        options.stopAt = stopAt
        options.explicitPrecision = precisionOptions.precision
        options.allowBF16Emulation = precisionOptions.allowBF16Emulation
        let summary = try Finetuner(options: options, communicator: communicator).run()
        if communicator.rank == 0 {
            print(String(format: "finetune %@: steps %d→%d, loss %.4f → %.4f, %.1f samples/s", settings.target.rawValue,
                         summary.firstStep, summary.lastStep, summary.firstLoss ?? .nan, summary.lastLoss ?? .nan, summary.samplesPerSecond))
        }
    }
}
