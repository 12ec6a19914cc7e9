import FluoroDistributed
import FluoroShards
import FluoroSupport
import FluoroTensor
import FluoroTraining
import Foundation

/// HiFT fine-tuning (METHOD §10) on one rank or many, on the pretraining's foundations: AdamW,
/// the gradient reducer (gradients averaged over ranks, so N ranks of batch b = 1 rank of N·b),
/// the checkpoint store (rank 0 writes; `--resume latest` continues exactly: samples are a pure
/// function of (seed, sample index), so the step alone places the data stream) and JSONL metrics.
public final class Finetuner {
    public struct Options {
        public var shards: URL
        public var run: URL
        public var settings: FinetuneSettings
        /// An exported FIMAE/FIMAE-SC encoder (nil: from scratch, or whatever the checkpoint holds on resume).
        public var encoder: URL?
        public var resume = false
        /// On resume: a new step budget (nil: the run's own).
        public var steps: Int?
        public var threads = 1
        public var logEvery: Int?
        public var stopAt: Int?
        public var stallTimeout: Double? = 600
        /// `--precision` as given (nil: not given). On resume a different one than the run's is refused.
        public var explicitPrecision: MatrixPrecision?
        /// Run `--precision bf16` on a CPU without AVX512_BF16/AMX (oneDNN emulates bf16; slow).
        public var allowBF16Emulation = false
        public init(shards: URL, run: URL, settings: FinetuneSettings) { self.shards = shards; self.run = run; self.settings = settings }
    }

    public struct Summary {
        public var firstStep: Int, lastStep: Int
        public var firstLoss: Float?, lastLoss: Float?
        public var samplesPerSecond: Double
        public var lastCheckpoint: URL?
    }

    let options: Options
    let communicator: Communicator
    let store: CheckpointStore
    var rank: Int { communicator.rank }
    var isCoordinator: Bool { communicator.rank == 0 }

    public init(options: Options, communicator: Communicator) {
        self.options = options
        self.communicator = communicator
        store = CheckpointStore(runDirectory: options.run, keep: options.settings.keepCheckpoints)
    }

    /// The settings file of a run directory.
    public static func settingsURL(run: URL) -> URL { run.appendingPathComponent("finetune.json") }

    /// Runs to the end (or `stopAt`); returns rank 0's summary.
    public func run() throws -> Summary {
        let session = try prepare()
        defer { session.watchdog.stop() }
        let stop = min(session.settings.steps, options.stopAt ?? session.settings.steps)
        // The run's matrix precision holds for this thread and the Parallel loops it starts.
        return try MatrixPrecision.with(session.settings.matrixPrecision) {
            while session.step < stop {
                try trainStep(session)
                try checkpointIfDue(session, stop: stop)
            }
            return try finish(session)
        }
    }
}
