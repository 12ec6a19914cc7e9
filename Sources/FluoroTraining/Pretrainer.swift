import FluoroDistributed
import FluoroModel
import FluoroShards
import FluoroSupport
import FluoroTensor
import Foundation

/// FIMAE-SC pretraining over shards on one or many ranks (METHOD §6–§7): every rank draws its
/// slice of each global batch, computes the loss and gradients of its clips, the gradients are
/// averaged over ranks, and AdamW updates every rank's copy identically. Rank 0, the coordinator,
/// alone prints, writes metrics and checkpoints. The model never sees the communicator.
public final class Pretrainer {
    /// Where to resume from.
    public enum ResumePoint: Equatable, Sendable {
        case none
        case latest
        case path(URL)
    }

    /// What the run needs besides its settings.
    public struct Options {
        public var shards: URL
        public var run: URL
        /// The settings asked for. On resume the checkpoint's math settings win (model, seed, rates,
        /// global batch, clipping) and `explicit` says which the user named, to refuse a mismatch;
        /// `steps` and the bookkeeping (checkpoint cadence, kept checkpoints, bucket size) come from here.
        public var settings: TrainingSettings
        /// Which math settings the user gave explicitly (checked against the checkpoint on resume).
        public var explicit: Set<ExplicitSetting> = []
        public var resume: ResumePoint = .none
        /// Threads for the model (`Parallel`) and the optimizer.
        public var threads: Int = 1
        /// Loader worker threads.
        public var loaderWorkers: Int = 2
        /// Print a progress line every this many steps (nil: about every 2% of the run, at least every step for short runs).
        public var logEvery: Int?
        /// Train on zero vesselness maps for sequences without the layer (else it is an error).
        public var allowMissingVesselness = false
        /// End the job when a step makes no progress for this many seconds (nil: off).
        public var stallTimeout: Double? = 600
        /// Stop cleanly (with a checkpoint) after this step, before `settings.steps` (nil: run to the end).
        public var stopAtStep: Int?
        /// Stop cleanly (with a checkpoint) after this many minutes of training (nil: no limit).
        public var timeLimitMinutes: Double?
        /// Start averaging the decoders' gradients while the encoder's backward runs (non-blocking
        /// all-reduce per bucket); off: one blocking all-reduce per bucket after backward. Both give
        /// the same bits; on 2 ranks sharing 2 cores neither is faster (docs/BENCHMARKS.md).
        public var overlapAllReduce = false
        /// Deliberate failure, for tests (`FLUORO_FAULT`).
        public var fault: FaultInjection? = FaultInjection.fromEnvironment

        public init(shards: URL, run: URL, settings: TrainingSettings) {
            self.shards = shards
            self.run = run
            self.settings = settings
        }
    }

    /// Settings that change the math of a run; naming one on resume that differs from the checkpoint is an error.
    public enum ExplicitSetting: String, Sendable {
        case model = "--preset/--config", seed = "--seed", learningRate = "--lr", batch = "--batch", clipGradient = "--clip-grad"
    }

    /// What a finished run reports.
    public struct Summary {
        public var firstStep: Int
        public var lastStep: Int
        public var firstLoss: Float?
        public var lastLoss: Float?
        public var lastCheckpoint: URL?
        public var clipsPerSecond: Double
        public var communicationShare: Double
    }

    let options: Options
    let communicator: Communicator
    let store: CheckpointStore

    public init(options: Options, communicator: Communicator) {
        self.options = options
        self.communicator = communicator
        store = CheckpointStore(runDirectory: options.run, keep: options.settings.keepCheckpoints)
    }

    var rank: Int { communicator.rank }
    var isCoordinator: Bool { communicator.rank == 0 }

    /// Settings and starting point: fresh, or from a checkpoint (possibly with another rank count).
    func resolveStart() throws -> (settings: TrainingSettings, state: TrainingState?, checkpoint: Checkpoint?) {
        let run = options.run.path
        let checkpoint: Checkpoint?
        switch options.resume {
        case .none:
            if let latest = store.completeSteps().last { throw TrainingError.runDirectoryInUse(run: run, latestStep: latest) }
            return (options.settings, nil, nil)
        case .latest: checkpoint = try store.latest()
        case .path(let url):
            let loaded = try CheckpointStore.load(url)
            // Rolling back inside the run directory while newer checkpoints exist would interleave
            // two histories (and `--resume latest` would later pick the abandoned one).
            if url.standardizedFileURL.deletingLastPathComponent().path == store.directory.standardizedFileURL.path {
                let newer = store.completeSteps().filter { $0 > loaded.step }
                if !newer.isEmpty {
                    throw TrainingError.incompatibleResume(run: run, reason: "checkpoints after step \(loaded.step) exist (\(newer.map(String.init).joined(separator: ", "))); move them out of \(store.directory.path) to roll back, or resume with --resume latest")
                }
            }
            checkpoint = loaded
        }
        guard let checkpoint else { return (options.settings, nil, nil) }
        let state: TrainingState
        do { state = try JSONDecoder().decode(TrainingState.self, from: checkpoint.state) } catch {
            throw CheckpointError.corrupt(path: checkpoint.directory.path, reason: "state.json does not decode (\(error))")
        }
        var settings = state.settings
        let asked = options.settings
        var mismatches: [String] = []
        func compare<T: Equatable>(_ key: ExplicitSetting, _ mine: T, _ theirs: T) {
            if options.explicit.contains(key) && mine != theirs { mismatches.append("\(key.rawValue) (\(mine) here, \(theirs) in the checkpoint)") }
        }
        compare(.model, asked.model, settings.model)
        compare(.seed, asked.seed, settings.seed)
        compare(.learningRate, asked.baseLearningRate, settings.baseLearningRate)
        compare(.batch, asked.batchPerRank * communicator.size, settings.globalBatch)
        compare(.clipGradient, asked.clipGradientNorm, settings.clipGradientNorm)
        if !mismatches.isEmpty {
            throw TrainingError.incompatibleResume(run: run, reason: "these differ from the run being resumed: \(mismatches.joined(separator: "; ")). Drop them to continue the run as it was (--batch is per rank: the global batch must stay the same), or start a new --run")
        }
        settings.checkpointEvery = asked.checkpointEvery
        settings.checkpointMinutes = asked.checkpointMinutes
        settings.keepCheckpoints = asked.keepCheckpoints
        settings.bucketBytes = asked.bucketBytes
        let global = settings.globalBatch
        guard global % communicator.size == 0 else {
            throw TrainingError.incompatibleResume(run: run, reason: "its global batch \(global) does not divide over \(communicator.size) ranks; use a rank count that divides it")
        }
        settings.batchPerRank = global / communicator.size
        settings.ranks = communicator.size
        if asked.steps != settings.steps {
            if isCoordinator { Log.info("resuming with --steps \(asked.steps) instead of \(settings.steps): the learning-rate schedule changes from here on") }
            settings.steps = asked.steps
        }
        guard state.step <= settings.steps else {
            throw TrainingError.incompatibleResume(run: run, reason: "the checkpoint is at step \(state.step), past --steps \(settings.steps)")
        }
        return (settings, state, checkpoint)
    }

    /// Runs the training loop to `settings.steps`; returns a summary (rank 0's view).
    public func run() throws -> Summary {
        let fm = FileManager.default
        if isCoordinator { try fm.createDirectory(at: options.run, withIntermediateDirectories: true) }
        let (settings, state, checkpoint) = try resolveStart()
        try settings.model.validate()
        let source = try ShardDataset(directory: options.shards)
        let fingerprint = DatasetFingerprint(source.manifest)
        try fingerprint.checkSame(across: communicator, shards: options.shards.path)
        if let recorded = state?.dataset, recorded != fingerprint {
            throw TrainingError.incompatibleResume(run: options.run.path, reason: "the dataset \(options.shards.path) changed since the checkpoint (\(recorded.sequences) sequences then, \(fingerprint.sequences) now); its sample order would change. Resume on the same dataset, or start a new --run")
        }
        if isCoordinator {
            print("pretrain: preset \(settings.preset), \(communicator.size) rank(s) x batch \(settings.batchPerRank) (global \(settings.globalBatch)) x \(options.threads) thread(s), \(settings.steps) steps, run \(options.run.path)")
            fflush(stdout)
        }
        let model = FIMAESC(config: settings.model, batch: settings.batchPerRank, seed: settings.seed)
        let arena = model.parameters
        let optimizer = AdamW(arena: arena,
                              hyperparameters: .init(weightDecay: settings.weightDecay), threads: options.threads)
        let decayRanges = arena.views.filter(\.decays).map { $0.offset..<($0.offset + $0.count) }
        var startStep = 0, cursor = LoaderCursor(seed: settings.seed), previousSeconds = 0.0
        var lastCheckpoint: URL? = checkpoint?.directory
        if let state, let checkpoint {
            try CheckpointTensors.restore(checkpoint, parameters: arena, optimizer: optimizer, optimizerStep: state.optimizerStep)
            startStep = state.step
            cursor = state.loaderCursor
            previousSeconds = state.trainingSeconds
            if isCoordinator {
                Log.info("resuming \(options.run.path) from step \(startStep) (\(checkpoint.directory.lastPathComponent)) on \(communicator.size) rank(s), global batch \(settings.globalBatch)")
            }
        }
        if isCoordinator { try DurableFile.write(settings.encoded(), to: options.run.appendingPathComponent("config.json")) }

        let loader = try ClipLoader(source: source, spec: settings.model.clipSpec, cursor: cursor, rank: rank,
                                    ranks: communicator.size, batchPerRank: settings.batchPerRank,
                                    options: LoaderOptions(workers: options.loaderWorkers, prefetchDepth: 4,
                                                           requireVesselness: !options.allowMissingVesselness))
        defer { loader.close() }
        if loader.skipped.count == source.sequenceCount {
            throw TrainingError.noTrainableData(shards: options.shards.path, reason: "every sequence is shorter than \(settings.model.frames) frames")
        }
        let reducer = GradientReducer(communicator: communicator, gradients: arena.gradients.buffer, bucketBytes: settings.bucketBytes)
        var overlapFailure: Error?
        if options.overlapAllReduce && communicator.size > 1 {
            model.gradientsReady = { range in
                do { try reducer.bucketReady(range) } catch { overlapFailure = overlapFailure ?? error }
            }
        }
        if isCoordinator && state != nil {
            // Steps after the checkpoint were lost with the process; their lines would repeat.
            try MetricsLog.truncate(runDirectory: options.run, keepingThrough: startStep)
        }
        let metrics = isCoordinator ? try MetricsLog(runDirectory: options.run) : nil
        let schedule = settings.schedule
        let watchdog = StallWatchdog(timeout: options.stallTimeout, rank: rank)
        defer { watchdog.stop() }
        let total = settings.steps
        let logEvery = options.logEvery ?? max(1, (total - startStep) / 50)
        var firstLoss: Float?, lastLoss: Float?
        var lastCheckpointTime = Date()
        var commSeconds = 0.0, computeSeconds = 0.0, dataSeconds = 0.0
        let runStart = Date()
        var step = startStep
        var window = (clips: 0, seconds: 0.0)

        func saveCheckpoint() throws -> URL {
            let stateNow = TrainingState(step: step, loaderCursor: loader.cursor, optimizerStep: optimizer.step, settings: settings,
                                         dataset: fingerprint,
                                         ranks: communicator.size, trainingSeconds: previousSeconds + Date().timeIntervalSince(runStart),
                                         fluoroVersion: FluoroVersion.fluoro, writtenAt: ISO8601DateFormatter().string(from: Date()))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let tensors = CheckpointTensors.writer(parameters: arena, optimizer: optimizer,
                                                   metadata: ["config": String(decoding: try encoder.encode(settings.model), as: UTF8.self)])
            return try store.save(step: step, tensors: tensors, state: encoder.encode(stateNow))
        }

        let stopStep = min(total, options.stopAtStep ?? total)
        if step >= stopStep && isCoordinator { Log.info("already at step \(step); nothing to do before --stop-at \(stopStep)") }
        while step < stopStep {
            watchdog.beat(step: step)
            let poison = try options.fault?.fire(rank: rank, step: step) ?? false
            let t0 = Date()
            let batch = try loader.next()
            let t1 = Date()
            let local = try model.forwardBackward(clip: batch.clips, vessel: batch.vesselness, mask: batch.mask)
            let t2 = Date()
            if model.gradientsReady != nil {
                if let overlapFailure { throw overlapFailure }
                try reducer.finish()
            } else {
                try reducer.averageAll()
            }
            // The coordinator's votes ride along with the losses, so every rank agrees on them:
            // stop now (time limit), and checkpoint now (time-based cadence).
            let timeUp = isCoordinator && options.timeLimitMinutes.map { Date().timeIntervalSince(runStart) >= $0 * 60 } ?? false
            let checkpointDue = isCoordinator && settings.checkpointMinutes.map { Date().timeIntervalSince(lastCheckpointTime) >= $0 * 60 } ?? false
            var losses: [Double] = [poison ? .nan : Double(local.total), Double(local.rec), Double(local.ves),
                                    timeUp ? 1 : 0, checkpointDue ? 1 : 0]
            try communicator.allReduceSum(&losses)
            watchdog.resume()  // every rank is past the previous step's checkpoint
            let t3 = Date()
            let scale = 1 / Double(communicator.size)
            let (loss, rec, ves) = (Float(losses[0] * scale), Float(losses[1] * scale), Float(losses[2] * scale))
            guard loss.isFinite else {
                throw TrainingError.nonFiniteLoss(step: step, loss: loss, lastCheckpoint: lastCheckpoint?.path)
            }
            var gradientScale: Float = 1
            if let maxNorm = settings.clipGradientNorm {
                let norm = Gradients.globalNorm(UnsafeBufferPointer(arena.gradients.buffer), threads: options.threads)
                gradientScale = Gradients.clipCoefficient(norm: norm, maxNorm: maxNorm)
            }
            let lr = schedule.rate(at: step)
            optimizer.step(parameters: arena.values.buffer, gradients: UnsafeBufferPointer(arena.gradients.buffer),
                           decayRanges: decayRanges, learningRate: Float(lr), gradientScale: gradientScale)
            let t4 = Date()
            step += 1
            dataSeconds += t1.timeIntervalSince(t0)
            computeSeconds += t2.timeIntervalSince(t1) + t4.timeIntervalSince(t3)
            commSeconds += t3.timeIntervalSince(t2)
            let stepSeconds = t4.timeIntervalSince(t0)
            window.clips += settings.globalBatch
            window.seconds += stepSeconds
            if firstLoss == nil { firstLoss = loss }
            lastLoss = loss
            if let metrics {
                try metrics.write(["step": step, "loss": loss, "loss_rec": rec, "loss_ves": ves, "lr": lr,
                                   "step_seconds": stepSeconds, "data_seconds": t1.timeIntervalSince(t0),
                                   "comm_seconds": t3.timeIntervalSince(t2), "ranks": communicator.size,
                                   "global_batch": settings.globalBatch, "samples_seen": loader.cursor.nextSample])
            }
            if isCoordinator && (step % logEvery == 0 || step == total) {
                let rate = Double(window.clips) / max(window.seconds, 1e-9)
                let eta = Double(total - step) * Double(settings.globalBatch) / max(rate, 1e-9)
                let commShare = commSeconds / max(commSeconds + computeSeconds + dataSeconds, 1e-9)
                print(String(format: "step %d/%d  loss %.4f (rec %.4f, ves %.4f)  lr %.2e  %.1f clips/s  comm %.0f%%  ETA %@",
                             step, total, loss, rec, ves, lr, rate, 100 * commShare, ProgressLine.format(seconds: eta)))
                fflush(stdout)
                window = (0, 0)
            }
            if losses[3] > 0 || step == stopStep && stopStep < total {
                if isCoordinator { Log.info("stopping at step \(step) of \(total) (\(losses[3] > 0 ? "time limit" : "--stop-at")); resume with --resume latest") }
                break
            }
            let byStep = settings.checkpointEvery.map { step % $0 == 0 } ?? false
            if step < total && (byStep || losses[4] > 0) {
                // Rank 0 writes; the others wait for it in the next all-reduce: not a stall.
                watchdog.pause()
                if isCoordinator {
                    do {
                        lastCheckpoint = try saveCheckpoint()
                        lastCheckpointTime = Date()
                    } catch {
                        Log.error("checkpoint at step \(step) failed: \(error); training goes on, the previous checkpoint is kept")
                    }
                }
            }
        }
        // The final checkpoint and the barrier: writing may take long on a slow filesystem.
        watchdog.pause()
        if isCoordinator && (lastCheckpoint?.lastPathComponent != CheckpointStore.name(step: step)) {
            do { lastCheckpoint = try saveCheckpoint() } catch {
                throw TrainingError.checkpointFailed(step: step, reason: "\(error)")
            }
        }
        try communicator.barrier()
        watchdog.stop()
        let elapsed = commSeconds + computeSeconds + dataSeconds
        return Summary(firstStep: startStep, lastStep: step, firstLoss: firstLoss, lastLoss: lastLoss,
                       lastCheckpoint: lastCheckpoint,
                       clipsPerSecond: Double((step - startStep) * settings.globalBatch) / max(elapsed, 1e-9),
                       communicationShare: commSeconds / max(elapsed, 1e-9))
    }
}
