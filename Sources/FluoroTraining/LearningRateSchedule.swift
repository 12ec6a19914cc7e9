import Foundation

/// Linear warm-up from 0, then cosine decay to a floor (METHOD §7). Rates are scaled by
/// global_batch / 256 like the base rate.
public struct LearningRateSchedule: Codable, Equatable, Sendable {
    /// Peak rate after scaling: baseRate * globalBatch / 256.
    public var peak: Double
    /// Floor after scaling: minRate * globalBatch / 256.
    public var floor: Double
    /// Steps of linear warm-up.
    public var warmupSteps: Int
    /// Total steps of the run.
    public var totalSteps: Int

    /// - Parameters: baseRate 1.5e-4 and minRate 1e-5 by default; warmupFraction of the steps (5%).
    public init(globalBatch: Int, totalSteps: Int, baseRate: Double = 1.5e-4, minRate: Double = 1e-5,
                warmupFraction: Double = 0.05) {
        let scale = Double(globalBatch) / 256
        peak = baseRate * scale
        floor = minRate * scale
        self.totalSteps = max(1, totalSteps)
        warmupSteps = Int((warmupFraction * Double(totalSteps)).rounded())
    }

    /// The rate for `step` (0-based): warm-up reaches the peak at step `warmupSteps`.
    public func rate(at step: Int) -> Double {
        if step < warmupSteps { return peak * Double(step) / Double(warmupSteps) }
        let span = max(1, totalSteps - warmupSteps)
        let progress = min(1, Double(step - warmupSteps) / Double(span))
        return floor + (peak - floor) * 0.5 * (1 + cos(Double.pi * progress))
    }
}
