import FluoroDistributed
import FluoroModel
import FluoroShards
import FluoroSupport
import FluoroTensor
import Foundation

extension Pretrainer {
    /// Where a run starts: step, data cursor and training seconds so far (zero for a fresh run).
    struct StartPoint {
        var step = 0
        var cursor: LoaderCursor
        var previousSeconds = 0.0
    }

    /// Everything before the first step: settings and starting point, the dataset (the same on
    /// every rank), the model (restored on resume), config.json, the loader, the reducer, the
    /// metrics log, the validation clips and the watchdog.
    func prepare() throws -> TrainingSession {
        if isCoordinator { try FileManager.default.createDirectory(at: options.run, withIntermediateDirectories: true) }
        let (settings, state, checkpoint) = try resolveStart()
        try MatrixPrecision.checkAvailable(settings.matrixPrecision, allowEmulation: options.allowBF16Emulation)
        try agreeOnStart(checkpoint)
        try settings.model.validate()
        let source = try ShardDataset(directory: options.shards)
        let fingerprint = try checkDataset(source, recorded: state?.dataset)
        let model = FIMAESC(config: settings.model, batch: settings.batchPerRank, seed: settings.seed)
        let optimizer = AdamW(arena: model.parameters, hyperparameters: .init(weightDecay: settings.weightDecay), threads: options.threads)
        let start = try restore(model, optimizer, settings: settings, state: state, checkpoint: checkpoint)
        let loader = try makeLoader(source, settings: settings, cursor: start.cursor)
        if isCoordinator {
            try announce(settings, sequences: source.sequenceCount, skipped: loader.skipped)
            try DurableFile.write(RunConfigFile.encode(settings, sequences: source.sequenceCount, skipped: loader.skipped,
                                                       validationShards: options.validationShards),
                                  to: options.run.appendingPathComponent("config.json"))
        }
        if isCoordinator && state != nil {
            // Steps after the checkpoint were lost with the process; their lines would repeat.
            try MetricsLog.truncate(runDirectory: options.run, keepingThrough: start.step)
        }
        let session = try makeSession(settings, fingerprint: fingerprint, model: model, optimizer: optimizer, loader: loader,
                                      source: source, start: start, checkpoint: checkpoint)
        installOverlap(session)
        try checkParametersAgree(session)
        return session
    }

    /// The starting point: a fresh run's, or the checkpoint's with the parameters and the
    /// optimiser's state restored from it.
    func restore(_ model: FIMAESC, _ optimizer: AdamW, settings: TrainingSettings, state: TrainingState?,
                 checkpoint: Checkpoint?) throws -> StartPoint {
        guard let state, let checkpoint else { return StartPoint(cursor: LoaderCursor(seed: settings.seed)) }
        try CheckpointTensors.restore(checkpoint, parameters: model.parameters, optimizer: optimizer, optimizerStep: state.optimizerStep)
        if isCoordinator {
            Log.info("resuming \(options.run.path) from step \(state.step) (\(checkpoint.directory.lastPathComponent)) on \(communicator.size) rank(s), global batch \(settings.globalBatch)")
        }
        return StartPoint(step: state.step, cursor: state.loaderCursor, previousSeconds: state.trainingSeconds)
    }

    /// The session: the reducer, the coordinator's logs and panels, the validation clips, the
    /// watchdog and the step range to train.
    func makeSession(_ settings: TrainingSettings, fingerprint: DatasetFingerprint, model: FIMAESC, optimizer: AdamW,
                     loader: ClipLoader, source: ShardDataset, start: StartPoint, checkpoint: Checkpoint?) throws -> TrainingSession {
        let reducer = GradientReducer(communicator: communicator, gradients: model.parameters.gradients.buffer, bucketBytes: settings.bucketBytes)
        let total = settings.steps
        let stopStep = min(total, options.stopAtStep ?? total)
        if start.step >= stopStep && isCoordinator { Log.info("already at step \(start.step); nothing to do before --stop-at \(stopStep)") }
        return TrainingSession(
            settings: settings, fingerprint: fingerprint, model: model, optimizer: optimizer, loader: loader, reducer: reducer,
            metrics: isCoordinator ? try MetricsLog(runDirectory: options.run) : nil,
            tensorBoard: isCoordinator ? try TensorBoardWriter(directory: options.run.appendingPathComponent("tensorboard"),
                                                               restartStep: checkpoint.map { _ in start.step + 1 }) : nil,
            views: isCoordinator ? try makeViews(source, settings: settings) : nil, validation: try makeValidation(settings, model: model),
            watchdog: StallWatchdog(timeout: options.stallTimeout, rank: rank), startStep: start.step, stopStep: stopStep,
            logEvery: options.logEvery ?? max(1, (total - start.step) / 50), previousSeconds: start.previousSeconds,
            lastCheckpoint: checkpoint?.directory)
    }

    /// The first progress line: model, ranks, batch, threads, steps, run and the sequences used
    /// (runs shorter than a clip are skipped, not an error: counted here and in config.json).
    func announce(_ settings: TrainingSettings, sequences: Int, skipped: [SkippedSequence]) throws {
        let short = skipped.isEmpty ? "" : " (\(skipped.count) shorter than \(settings.model.frames) frames skipped)"
        let micro = settings.accumulationSteps > 1 ? " x \(settings.accumulationSteps) accumulated" : ""
        print("pretrain: preset \(settings.preset), \(communicator.size) rank(s) x batch \(settings.batchPerRank)\(micro) (global \(settings.globalBatch)) x \(options.threads) thread(s)\(settings.matrixPrecision == .bf16 ? ", bf16 matrix products" : ""), \(settings.steps) steps, "
              + "\(sequences - skipped.count) of \(sequences) sequences\(short), run \(options.run.path)")
        fflush(stdout)
    }

    /// The dataset's fingerprint, checked to be the same on every rank and, on resume, the one recorded.
    func checkDataset(_ source: ShardDataset, recorded: DatasetFingerprint?) throws -> DatasetFingerprint {
        let fingerprint = DatasetFingerprint(source.manifest)
        try fingerprint.checkSame(across: communicator, shards: options.shards.path)
        if let recorded, recorded != fingerprint {
            throw TrainingError.incompatibleResume(run: options.run.path, reason: "the dataset \(options.shards.path) changed since the checkpoint (\(recorded.sequences) sequences then, \(fingerprint.sequences) now); its sample order would change. Resume on the same dataset, or start a new --run")
        }
        return fingerprint
    }

    /// This rank's loader from `cursor`; throws when no sequence is long enough for a clip.
    func makeLoader(_ source: ShardDataset, settings: TrainingSettings, cursor: LoaderCursor) throws -> ClipLoader {
        let loader = try ClipLoader(source: source, spec: settings.model.clipSpec, cursor: cursor, rank: rank,
                                    ranks: communicator.size, batchPerRank: settings.batchPerRank,
                                    options: LoaderOptions(workers: options.loaderWorkers, prefetchDepth: 4,
                                                           requireVesselness: !options.allowMissingVesselness))
        if loader.skipped.count == source.sequenceCount {
            loader.close()
            throw TrainingError.noTrainableData(shards: options.shards.path, reason: "every sequence is shorter than \(settings.model.frames) frames")
        }
        return loader
    }

    /// The reconstruction panels' clips and model (nil when `panelClips` is 0).
    func makeViews(_ source: ShardDataset, settings: TrainingSettings) throws -> ReconstructionViews? {
        guard options.panelClips > 0 else { return nil }
        let inputs = try ReconstructionInputs(source: source, spec: settings.model.clipSpec, count: options.panelClips,
                                              name: options.shards.path)
        return ReconstructionViews(config: settings.model, inputs: inputs, runDirectory: options.run)
    }

    /// With `overlapAllReduce` on several ranks, starts each bucket's all-reduce as backward fills it.
    func installOverlap(_ session: TrainingSession) {
        guard options.overlapAllReduce && communicator.size > 1 else { return }
        let reducer = session.reducer
        session.model.gradientsReady = { [unowned session] range in
            guard session.reducesDuringBackward else { return }
            do { try reducer.bucketReady(range) } catch { session.overlapFailure = session.overlapFailure ?? error }
        }
    }
}
