import FluoroTraining
import FluoroTensor
import Foundation

/// What a fine-tuning run is (METHOD §10), saved as `<run>/finetune.json` and in every checkpoint;
/// on resume the saved settings win over everything but the step budget and bookkeeping.
public struct FinetuneSettings: Codable, Equatable, Sendable, ResumableSettings {
    /// What is trained: the tracker, or the automatic-initialisation detector.
    public enum Target: String, Codable, Sendable { case tracker, detector }

    public var target: Target = .tracker
    public var config: HiFTConfig
    public var task: TrackingTask
    /// Total optimisation steps of the run.
    public var steps: Int
    /// Samples per rank per step, and ranks: the global batch is their product.
    public var batchPerRank: Int
    public var ranks: Int
    /// Peak learning rate (the paper's 2e-4, not scaled by batch), its floor after cosine decay,
    /// and the warm-up fraction.
    public var learningRate: Double = 2e-4
    public var minLearningRate: Double = 1e-5
    public var warmupFraction: Double = 0.05
    public var weightDecay: Float = 0.05
    /// The encoder's learning rate as a fraction of the rest (1: the same; 0: frozen encoder).
    public var encoderRateScale: Double = 1
    public var seed: UInt64
    /// Where the encoder came from: an exported encoder's path and XXH64, or nil (from scratch).
    public var encoder: String?
    public var encoderHash: String?
    /// Checkpoint cadence and how many to keep.
    public var checkpointEvery: Int?
    public var keepCheckpoints: Int = 3
    /// Clip the averaged gradients to this global L2 norm before AdamW (nil: off, METHOD §10; not
    /// in runs made before clipping existed). Logged as `grad_norm` when set.
    public var clipGradientNorm: Float?
    /// The matrix products' input precision (nil in runs made before bf16 existed: fp32).
    public var precision: MatrixPrecision?
    /// The library the fp32 products ran on when the run last started or resumed
    /// (`SgemmLibrary.rawValue`; nil in runs made before it was recorded).
    public var sgemmLibrary: String?

    /// The precision in force: `precision`, fp32 when unset.
    public var matrixPrecision: MatrixPrecision { precision ?? .fp32 }

    public init(config: HiFTConfig, task: TrackingTask, steps: Int, batchPerRank: Int, ranks: Int, seed: UInt64) {
        self.config = config; self.task = task; self.steps = steps; self.batchPerRank = batchPerRank
        self.ranks = ranks; self.seed = seed
    }

    /// Warm-up then cosine from `learningRate` to `minLearningRate`.
    public var schedule: LearningRateSchedule {
        LearningRateSchedule(globalBatch: 256, totalSteps: steps, baseRate: learningRate, minRate: minLearningRate,
                             warmupFraction: warmupFraction)
    }
}

/// `state.json` of a fine-tuning checkpoint.
public struct FinetuneState: Codable, Equatable, Sendable {
    public var step: Int
    public var optimizerStep: Int
    public var settings: FinetuneSettings
    public var trainingSeconds: Double
    public var fluoroVersion: String
    public var writtenAt: String
}
