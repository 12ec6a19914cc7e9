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
        /// Whether `settings.steps` was asked for: on resume it then retargets the schedule; when
        /// false the run's own total from the checkpoint stands (`--resume latest` without `--steps`).
        public var stepsGiven = true
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
        /// the same bits on 2 ranks (with 3 or more, MPI's non-blocking sum may round differently in the
        /// last bit, the same on every rank); on 2 ranks sharing 2 cores neither is faster (docs/BENCHMARKS.md).
        public var overlapAllReduce = false
        /// A step whose averaged gradient holds NaN or Inf (with a finite loss) is skipped, without
        /// an update, instead of stopping the run.
        public var skipNonFiniteGradients = false
        /// Render a reconstruction panel every this many steps (nil: only at checkpoints); a panel
        /// is also made at every checkpoint.
        public var imagesEvery: Int?
        /// Clips in the reconstruction panel (0: no panels).
        public var panelClips = 3
        /// Compare every rank's parameters (a hash of the arena) after every this many steps and stop
        /// naming the step and the ranks that differ (nil: only once, after loading).
        public var checkReplicasEvery: Int?
        /// Shards to evaluate the validation loss on, every `settings.validationEvery` steps (nil: none).
        public var validationShards: URL?
        /// Deliberate failure, for tests (nil: none; `fluoro pretrain` reads `FLUORO_FAULT` into it).
        public var fault: FaultInjection?
        /// Run `--precision bf16` on a CPU without AVX512_BF16/AMX (oneDNN emulates bf16; slow).
        public var allowBF16Emulation = false

        public init(shards: URL, run: URL, settings: TrainingSettings) {
            self.shards = shards
            self.run = run
            self.settings = settings
        }
    }

    /// Settings that change the math of a run; naming one on resume that differs from the checkpoint is an error.
    public enum ExplicitSetting: String, Sendable {
        case model = "--preset/--config", seed = "--seed", learningRate = "--lr", batch = "--batch", clipGradient = "--clip-grad"
        case accumulate = "--accumulate"
        case precision = "--precision"
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

    /// Runs the training loop to `settings.steps` (or a stop); returns a summary (rank 0's view).
    public func run() throws -> Summary {
        // One job per run directory: the coordinator holds <run>/LOCK until the end.
        let lock = isCoordinator ? try RunLock.acquire(runDirectory: options.run) : nil
        defer { lock?.release() }
        let session = try prepare()
        defer { session.close() }
        // The run's matrix precision holds for this thread and the Parallel loops it starts.
        return try MatrixPrecision.with(session.settings.matrixPrecision) { try loop(session) }
    }

    func loop(_ session: TrainingSession) throws -> Summary {
        while session.step < session.stopStep {
            var outcome = try trainStep(session)
            outcome.validation = try validateIfDue(session)
            try record(outcome, session)
            try checkReplicasIfDue(session)
            if stopsEarly(outcome, session) { break }
            let checkpointed = try checkpointIfDue(session, timeDue: outcome.checkpointDue)
            try panelIfDue(session, checkpointed: checkpointed)
        }
        try finish(session)
        return session.summary()
    }

    /// True when the run stops before its total: at the time limit (rank 0's vote) or `--stop-at`.
    func stopsEarly(_ outcome: StepOutcome, _ session: TrainingSession) -> Bool {
        guard outcome.timeUp || session.step == session.stopStep && session.stopStep < session.total else { return false }
        if isCoordinator { Log.info("stopping at step \(session.step) of \(session.total) (\(outcome.timeUp ? "time limit" : "--stop-at")); resume with --resume latest") }
        return true
    }
}
