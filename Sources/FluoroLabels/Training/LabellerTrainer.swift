import FluoroDistributed
import FluoroSupport
import FluoroTraining
import Foundation

/// Trains the vesselness U-Net (METHOD §9) on one rank or many, on the pretraining's foundations
/// (like the tracker's `Finetuner`): AdamW over one `ParameterArena`, `GradientReducer` (N ranks of
/// batch b make the update of one rank of N·b), `CheckpointStore` (rank 0 writes; resume continues
/// bit for bit: crops are a pure function of (seed, sample index)) and JSONL metrics, with held-out
/// Dice and AUC as it trains. At the end rank 0 writes `<run>/labeller.safetensors`.
public final class LabellerTrainer {
    public struct Options {
        public var shards: URL
        public var run: URL
        public var settings: LabellerSettings
        public var resume = false
        /// On resume: a new step budget (nil: the run's own).
        public var steps: Int?
        public var threads = 1
        public var logEvery: Int?
        public var stopAt: Int?
        public init(shards: URL, run: URL, settings: LabellerSettings) { self.shards = shards; self.run = run; self.settings = settings }
    }

    public struct Summary {
        public var firstStep: Int, lastStep: Int
        public var firstLoss: Float?, lastLoss: Float?
        public var secondsPerStep: Double
        /// The last held-out validation (rank 0).
        public var validation: SegmentationMetrics?
        public var model: URL?
    }

    let options: Options
    let communicator: Communicator
    let store: CheckpointStore
    var isCoordinator: Bool { communicator.rank == 0 }

    public init(options: Options, communicator: Communicator) {
        self.options = options
        self.communicator = communicator
        store = CheckpointStore(runDirectory: options.run, keep: options.settings.keepCheckpoints)
    }

    public static func settingsURL(run: URL) -> URL { run.appendingPathComponent("labeller.json") }
    public static func modelURL(run: URL) -> URL { run.appendingPathComponent("labeller.safetensors") }

    /// Runs to the end (or `stopAt`); returns rank 0's summary.
    public func run() throws -> Summary {
        let session = try prepare()
        let stop = min(session.settings.steps, options.stopAt ?? session.settings.steps)
        while session.step < stop {
            try trainStep(session)
            if session.step % session.settings.validateEvery == 0 || session.step == stop { try validate(session) }
            try checkpointIfDue(session, stop: stop)
        }
        return try finish(session, stop: stop)
    }
}
