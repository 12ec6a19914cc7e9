import FluoroDistributed
import FluoroShards
import FluoroSupport
import FluoroTensor
import FluoroTraining
import Foundation

/// Everything one fine-tuning run holds while it trains.
final class FinetuneSession {
    let settings: FinetuneSettings
    let target: FineTuningTarget
    let optimizer: AdamW
    let decayRanges: [Range<Int>]
    let reducer: GradientReducer
    let metrics: MetricsLog?
    /// Rank 0's TensorBoard event file (`<run>/tensorboard/`).
    let tensorBoard: TensorBoardWriter?
    /// Metrics and TensorBoard records dropped on a full disk (not fatal).
    let reports = ReportWrites()
    let watchdog: StallWatchdog
    let startStep: Int
    let previousSeconds: Double
    let started = Date()
    var step: Int
    var lastCheckpoint: URL?
    var firstLoss: Float?, lastLoss: Float?
    var window = (samples: 0, seconds: 0.0)
    var computeSeconds = 0.0

    init(settings: FinetuneSettings, target: FineTuningTarget, optimizer: AdamW, reducer: GradientReducer, metrics: MetricsLog?,
         tensorBoard: TensorBoardWriter?, watchdog: StallWatchdog, startStep: Int, previousSeconds: Double, lastCheckpoint: URL?) {
        self.settings = settings; self.target = target; self.optimizer = optimizer; self.reducer = reducer
        self.metrics = metrics; self.tensorBoard = tensorBoard; self.watchdog = watchdog; self.startStep = startStep; self.previousSeconds = previousSeconds
        self.lastCheckpoint = lastCheckpoint
        step = startStep
        decayRanges = target.parameters.views.filter(\.decays).map { $0.offset..<($0.offset + $0.count) }
    }
}

extension Finetuner {
    /// Settings, model, optimizer and data: fresh, or from the latest checkpoint.
    func prepare() throws -> FinetuneSession {
        if isCoordinator { try FileManager.default.createDirectory(at: options.run, withIntermediateDirectories: true) }
        let (settings, state, checkpoint) = try resolveStart()
        try settings.config.validate()
        try MatrixPrecision.checkAvailable(settings.matrixPrecision, allowEmulation: options.allowBF16Emulation)
        guard settings.globalBatch % communicator.size == 0 || state == nil else {
            throw TrainingError.incompatibleResume(run: options.run.path, reason: "its global batch \(settings.globalBatch) does not divide over \(communicator.size) ranks")
        }
        let target = try makeTarget(settings)
        let optimizer = AdamW(count: target.parameters.values.count,
                              hyperparameters: .init(weightDecay: settings.weightDecay), threads: options.threads)
        if let state, let checkpoint {
            try CheckpointTensors.restore(checkpoint, parameters: target.parameters, optimizer: optimizer, optimizerStep: state.optimizerStep)
            if isCoordinator { Log.info("resuming \(options.run.path) from step \(state.step)") }
        } else if let encoder = options.encoder {
            try loadEncoder(encoder, into: target, config: settings.config)
        }
        if isCoordinator {
            try DurableFile.write(JSONEncoder.sorted.encode(settings), to: Finetuner.settingsURL(run: options.run))
            if state != nil { try MetricsLog.truncate(runDirectory: options.run, keepingThrough: state!.step) }
            print("finetune \(settings.target.rawValue): task \(settings.task.rawValue), \(communicator.size) rank(s) x batch \(settings.batchPerRank) x \(options.threads) thread(s)\(settings.matrixPrecision == .bf16 ? ", bf16 matrix products" : ""), \(settings.steps) steps, encoder \(settings.encoder ?? "from scratch"), run \(options.run.path)")
            fflush(stdout)
        }
        return FinetuneSession(settings: settings, target: target, optimizer: optimizer,
                               reducer: GradientReducer(communicator: communicator, gradients: target.parameters.gradients.buffer),
                               metrics: isCoordinator ? try MetricsLog(runDirectory: options.run) : nil,
                               tensorBoard: isCoordinator ? try TensorBoardWriter(directory: options.run.appendingPathComponent("tensorboard"),
                                                                                  restartStep: state.map { $0.step + 1 }) : nil,
                               watchdog: StallWatchdog(timeout: options.stallTimeout, rank: rank),
                               startStep: state?.step ?? 0, previousSeconds: state?.trainingSeconds ?? 0,
                               lastCheckpoint: checkpoint?.directory)
    }

    /// The run's settings and state: the asked ones, or the latest checkpoint's (its step budget
    /// replaced by `options.steps` when given).
    func resolveStart() throws -> (FinetuneSettings, FinetuneState?, Checkpoint?) {
        guard let (state, checkpoint) = try store.startingPoint(resume: options.resume, run: options.run.path,
                                                               state: FinetuneState.self, kind: "a fine-tuning state") else {
            var settings = options.settings
            settings.ranks = communicator.size
            settings.sgemmLibrary = SgemmLibrary.current.rawValue
            return (settings, nil, nil)
        }
        if let asked = options.explicitPrecision, asked != state.settings.matrixPrecision {
            throw TrainingError.incompatibleResume(run: options.run.path, reason: "--precision \(asked) differs from the run's \(state.settings.matrixPrecision); drop it to continue the run as it was, or start a new --run")
        }
        var settings = try state.settings.resumed(at: state.step, steps: options.steps, checkpointEvery: options.settings.checkpointEvery,
                                                  ranks: communicator.size, run: options.run.path)
        if isCoordinator, let warning = SgemmLibrary.resumeWarning(saved: settings.sgemmLibrary) { Log.info(warning) }
        settings.sgemmLibrary = SgemmLibrary.current.rawValue
        return (settings, state, checkpoint)
    }

    /// The tracker or the detector with its sampler, initialised from the run's seed.
    func makeTarget(_ s: FinetuneSettings) throws -> FineTuningTarget {
        let dataset = try ShardDataset(directory: options.shards)
        switch s.target {
        case .tracker:
            return TrackerTarget(model: HiFT(config: s.config, batch: s.batchPerRank, seed: s.seed),
                                 sampler: try TrackingSampler(dataset: dataset, config: s.config, task: s.task))
        case .detector:
            return DetectorTarget(detector: HiFTDetector(config: s.config, batch: s.batchPerRank, seed: s.seed),
                                  sampler: try DetectorSampler(dataset: dataset, config: s.config, task: s.task))
        }
    }

    /// Loads an exported encoder after checking that its shape fits the tracker's.
    func loadEncoder(_ url: URL, into target: FineTuningTarget, config: HiFTConfig) throws {
        let encoder = try EncoderExport.check(url)
        let mismatches = [("width", encoder.width, config.width), ("depth", encoder.depth, config.depth), ("heads", encoder.heads, config.heads),
                          ("patch", encoder.patch, config.patch), ("tubelet", encoder.tubelet, config.tubelet)]
            .filter { $0.1 != $0.2 }.map { "\($0.0) \($0.1) in the encoder, \($0.2) in the tracker" }
        guard mismatches.isEmpty else {
            throw TrainingError.incompatibleResume(run: url.path, reason: "this encoder does not fit the tracker config: \(mismatches.joined(separator: "; ")); drop --config's encoder fields (fluoro finetune adopts the encoder's) or use a matching encoder")
        }
        try target.loadEncoder(from: SafetensorsFile(contentsOf: url))
    }
}
