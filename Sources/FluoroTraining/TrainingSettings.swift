import FluoroDistributed
import FluoroModel
import FluoroTensor
import Foundation

/// Everything that defines a pretraining run besides the data: the model, the optimisation and
/// the bookkeeping. Saved as `config.json` in the run directory and in every checkpoint's
/// `state.json`; a resumed run must match it. Fields added after 0.1.0 decode with their
/// defaults from older files (`init(from:)` below).
public struct TrainingSettings: Codable, Equatable, Sendable {
    /// The model's shape and loss weights.
    public var model: ModelConfig
    /// The preset the model started from (for people; `model` is authoritative).
    public var preset: String
    /// Optimisation steps in the whole run.
    public var steps: Int
    /// Clips per rank per micro-batch; the global batch is ranks x batchPerRank x accumulationSteps.
    public var batchPerRank: Int
    /// Micro-batches whose gradients are summed before each update (METHOD §7's gradient
    /// accumulation): the same update as one batch of accumulationSteps x batchPerRank clips per
    /// rank, in the activation memory of one micro-batch.
    public var accumulationSteps: Int = 1
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
    /// Evaluate the validation loss every this many steps (nil = no validation).
    public var validationEvery: Int?
    /// Clips of the validation set (fixed crops and masks).
    public var validationClips: Int = 16
    /// The matrix products' input precision (nil in runs made before bf16 existed: fp32).
    public var precision: MatrixPrecision?
    /// The library the fp32 products ran on when the run last started or resumed
    /// (`SgemmLibrary.rawValue`; nil in runs made before it was recorded).
    public var sgemmLibrary: String?

    /// The precision in force: `precision`, fp32 when unset.
    public var matrixPrecision: MatrixPrecision { precision ?? .fp32 }

    /// Clips per step over all ranks and micro-batches.
    public var globalBatch: Int { ranks * batchPerRank * accumulationSteps }

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

extension TrainingSettings {
    /// Decodes settings written by any Fluoro version: the fields of 0.1.0 are required, every
    /// field added since (and every field with a default) takes its default when absent, so old
    /// checkpoints and config.json files still load (tested with a committed 0.1.0 checkpoint).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(model: try c.decode(ModelConfig.self, forKey: .model), preset: try c.decode(String.self, forKey: .preset),
                  steps: try c.decode(Int.self, forKey: .steps), batchPerRank: try c.decode(Int.self, forKey: .batchPerRank),
                  ranks: try c.decode(Int.self, forKey: .ranks), seed: try c.decode(UInt64.self, forKey: .seed))
        let defaults = self
        accumulationSteps = try c.decodeIfPresent(Int.self, forKey: .accumulationSteps) ?? defaults.accumulationSteps
        baseLearningRate = try c.decodeIfPresent(Double.self, forKey: .baseLearningRate) ?? defaults.baseLearningRate
        minLearningRate = try c.decodeIfPresent(Double.self, forKey: .minLearningRate) ?? defaults.minLearningRate
        warmupFraction = try c.decodeIfPresent(Double.self, forKey: .warmupFraction) ?? defaults.warmupFraction
        weightDecay = try c.decodeIfPresent(Float.self, forKey: .weightDecay) ?? defaults.weightDecay
        clipGradientNorm = try c.decodeIfPresent(Float.self, forKey: .clipGradientNorm)
        checkpointEvery = try c.decodeIfPresent(Int.self, forKey: .checkpointEvery)
        checkpointMinutes = try c.decodeIfPresent(Double.self, forKey: .checkpointMinutes)
        keepCheckpoints = try c.decodeIfPresent(Int.self, forKey: .keepCheckpoints) ?? defaults.keepCheckpoints
        bucketBytes = try c.decodeIfPresent(Int.self, forKey: .bucketBytes) ?? defaults.bucketBytes
        validationEvery = try c.decodeIfPresent(Int.self, forKey: .validationEvery)
        validationClips = try c.decodeIfPresent(Int.self, forKey: .validationClips) ?? defaults.validationClips
        precision = try c.decodeIfPresent(MatrixPrecision.self, forKey: .precision)
        sgemmLibrary = try c.decodeIfPresent(String.self, forKey: .sgemmLibrary)
    }
}
