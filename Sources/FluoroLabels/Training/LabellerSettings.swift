import FluoroTraining
import Foundation

/// What a labeller training run is (`<run>/labeller.json` and every checkpoint's state); on
/// resume the saved settings win over everything but the step budget and bookkeeping.
public struct LabellerSettings: Codable, Equatable, Sendable, ResumableSettings {
    public var config: UNetConfig
    public var steps: Int
    /// Crops per rank per step, and ranks: the global batch is their product.
    public var batchPerRank: Int
    public var ranks: Int
    /// Side of the square training crops (METHOD §9: 256).
    public var crop: Int = 256
    /// Peak learning rate (not scaled by batch), its floor after cosine decay, warm-up fraction.
    public var learningRate: Double = 1e-3
    public var minLearningRate: Double = 1e-5
    public var warmupFraction: Double = 0.05
    public var weightDecay: Float = 1e-4
    public var seed: UInt64
    public var augmentation = VesselAugmentation()
    /// Held-out validation every this many steps (and at the end), over this many crops.
    public var validateEvery: Int = 50
    public var validationCrops: Int = 8
    public var checkpointEvery: Int?
    public var keepCheckpoints: Int = 3

    public init(config: UNetConfig, steps: Int, batchPerRank: Int, ranks: Int, seed: UInt64) {
        self.config = config; self.steps = steps; self.batchPerRank = batchPerRank; self.ranks = ranks; self.seed = seed
    }

    /// Warm-up then cosine from `learningRate` to `minLearningRate`.
    public var schedule: LearningRateSchedule {
        LearningRateSchedule(globalBatch: 256, totalSteps: steps, baseRate: learningRate, minRate: minLearningRate,
                             warmupFraction: warmupFraction)
    }
}

/// `state.json` of a labeller checkpoint.
public struct LabellerState: Codable, Equatable, Sendable {
    public var step: Int
    public var optimizerStep: Int
    public var settings: LabellerSettings
    public var trainingSeconds: Double
    public var fluoroVersion: String
}
