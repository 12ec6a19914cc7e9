import FluoroDistributed
import FluoroModel
import FluoroTensor
import Foundation

/// Everything that defines a pretraining run besides the data: the model, the optimisation and
/// the bookkeeping. Saved as `config.json` in the run directory; a resumed run must match it.
public struct TrainingSettings: Codable, Equatable, Sendable {
    /// The model's shape and loss weights.
    public var model: ModelConfig
    /// The preset the model started from (for people; `model` is authoritative).
    public var preset: String
    /// Optimisation steps in the whole run.
    public var steps: Int
    /// Clips per rank per step; the global batch is ranks x batchPerRank.
    public var batchPerRank: Int
    /// Ranks the run started with (a resume may use another count with the same global batch).
    public var ranks: Int
    /// The seed of initialisation, data order, crops and masks.
    public var seed: UInt64
    /// base_lr and min_lr before scaling by global_batch / 256 (METHOD §7).
    public var baseLearningRate: Double = 1.5e-4
    public var minLearningRate: Double = 1e-5
    /// Fraction of the steps spent in linear warm-up.
    public var warmupFraction: Double = 0.05
    /// Weight decay on matrices.
    public var weightDecay: Float = 0.05
    /// Clip gradients to this global norm (nil = off).
    public var clipGradientNorm: Float?
    /// Checkpoint every this many steps (nil = only at the end and by time).
    public var checkpointEvery: Int?
    /// Checkpoint every this many minutes (nil = off).
    public var checkpointMinutes: Double?
    /// Complete checkpoints kept.
    public var keepCheckpoints: Int = 3
    /// Gradient all-reduce bucket size in bytes.
    public var bucketBytes: Int = GradientReducer.defaultBucketBytes
    /// The matrix products' input precision (nil in runs made before bf16 existed: fp32).
    public var precision: MatrixPrecision?

    /// The precision in force: `precision`, fp32 when unset.
    public var matrixPrecision: MatrixPrecision { precision ?? .fp32 }

    /// Clips per step over all ranks.
    public var globalBatch: Int { ranks * batchPerRank }

    public init(model: ModelConfig, preset: String, steps: Int, batchPerRank: Int, ranks: Int, seed: UInt64) {
        self.model = model
        self.preset = preset
        self.steps = steps
        self.batchPerRank = batchPerRank
        self.ranks = ranks
        self.seed = seed
    }

    /// The learning-rate schedule these settings imply.
    public var schedule: LearningRateSchedule {
        LearningRateSchedule(globalBatch: globalBatch, totalSteps: steps, baseRate: baseLearningRate,
                             minRate: minLearningRate, warmupFraction: warmupFraction)
    }

    /// Pretty JSON for the run directory.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }
}
