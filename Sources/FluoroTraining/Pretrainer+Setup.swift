import FluoroDistributed
import FluoroModel
import FluoroShards
import FluoroSupport
import FluoroTensor
import Foundation

extension Pretrainer {
    /// Everything before the first step: settings and starting point, the dataset (the same on
    /// every rank), the model (restored on resume), config.json, the loader, the reducer, the
    /// metrics log and the watchdog.
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
        var startStep = 0, cursor = LoaderCursor(seed: settings.seed), previousSeconds = 0.0
        if let state, let checkpoint {
            try CheckpointTensors.restore(checkpoint, parameters: model.parameters, optimizer: optimizer, optimizerStep: state.optimizerStep)
            (startStep, cursor, previousSeconds) = (state.step, state.loaderCursor, state.trainingSeconds)
            if isCoordinator {
                Log.info("resuming \(options.run.path) from step \(startStep) (\(checkpoint.directory.lastPathComponent)) on \(communicator.size) rank(s), global batch \(settings.globalBatch)")
            }
        }
        let loader = try makeLoader(source, settings: settings, cursor: cursor)
        if isCoordinator {
            try announce(settings, sequences: source.sequenceCount, skipped: loader.skipped)
            try DurableFile.write(RunConfigFile.encode(settings, sequences: source.sequenceCount, skipped: loader.skipped),
                                  to: options.run.appendingPathComponent("config.json"))
        }
        let reducer = GradientReducer(communicator: communicator, gradients: model.parameters.gradients.buffer, bucketBytes: settings.bucketBytes)
        if isCoordinator && state != nil {
            // Steps after the checkpoint were lost with the process; their lines would repeat.
            try MetricsLog.truncate(runDirectory: options.run, keepingThrough: startStep)
        }
        let total = settings.steps
        let stopStep = min(total, options.stopAtStep ?? total)
        if startStep >= stopStep && isCoordinator { Log.info("already at step \(startStep); nothing to do before --stop-at \(stopStep)") }
        let session = TrainingSession(
            settings: settings, fingerprint: fingerprint, model: model, optimizer: optimizer, loader: loader, reducer: reducer,
            metrics: isCoordinator ? try MetricsLog(runDirectory: options.run) : nil,
            tensorBoard: isCoordinator ? try TensorBoardWriter(directory: options.run.appendingPathComponent("tensorboard"),
                                                               restartStep: state.map { $0.step + 1 }) : nil,
            views: isCoordinator ? try makeViews(source, settings: settings) : nil,
            watchdog: StallWatchdog(timeout: options.stallTimeout, rank: rank), startStep: startStep, stopStep: stopStep,
            logEvery: options.logEvery ?? max(1, (total - startStep) / 50), previousSeconds: previousSeconds,
            lastCheckpoint: checkpoint?.directory)
        installOverlap(session)
        try checkParametersAgree(session)
        return session
    }

    /// The first progress line: model, ranks, batch, threads, steps, run and the sequences used
    /// (runs shorter than a clip are skipped, not an error: counted here and in config.json).
    func announce(_ settings: TrainingSettings, sequences: Int, skipped: [SkippedSequence]) throws {
        let short = skipped.isEmpty ? "" : " (\(skipped.count) shorter than \(settings.model.frames) frames skipped)"
        print("pretrain: preset \(settings.preset), \(communicator.size) rank(s) x batch \(settings.batchPerRank) (global \(settings.globalBatch)) x \(options.threads) thread(s)\(settings.matrixPrecision == .bf16 ? ", bf16 matrix products" : ""), \(settings.steps) steps, "
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
            do { try reducer.bucketReady(range) } catch { session.overlapFailure = session.overlapFailure ?? error }
        }
    }
}
