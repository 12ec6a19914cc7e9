import Foundation

/// How well a vesselness map separates vessel from background, from scores quantised to 256
/// levels (the stored UInt8 layer) against a 0/1 truth: Dice at 0.5 and at the best threshold,
/// ROC AUC (ties split, trapezoids) and the precision at 90% recall.
public struct SegmentationMetrics: Codable, Equatable, Sendable {
    /// Pixels per score level 0...255, among vessel and background pixels.
    public var positives = [Int](repeating: 0, count: 256)
    public var negatives = [Int](repeating: 0, count: 256)

    public init() {}

    /// Counts `n` pixels: scores [n] UInt8, truth [n] (vessel when true).
    public mutating func add(scores: UnsafePointer<UInt8>, truth: UnsafePointer<Bool>, count n: Int) {
        for i in 0..<n {
            if truth[i] { positives[Int(scores[i])] += 1 } else { negatives[Int(scores[i])] += 1 }
        }
    }

    /// Sums another's counts into this one.
    public mutating func merge(_ other: SegmentationMetrics) {
        for i in 0..<256 { positives[i] += other.positives[i]; negatives[i] += other.negatives[i] }
    }

    var totalPositives: Int { positives.reduce(0, +) }
    var totalNegatives: Int { negatives.reduce(0, +) }

    /// (TP, FP) for "score ≥ level".
    func counts(atLeast level: Int) -> (tp: Int, fp: Int) {
        (positives[level...].reduce(0, +), negatives[level...].reduce(0, +))
    }

    /// Dice of "score ≥ level": 2 TP / (2 TP + FP + FN).
    public func dice(atLeast level: Int) -> Double {
        let (tp, fp) = counts(atLeast: level), fn = totalPositives - tp
        let d = 2 * tp + fp + fn
        return d == 0 ? 1 : Double(2 * tp) / Double(d)
    }

    /// Dice at probability 0.5 (level 128).
    public var diceAtHalf: Double { dice(atLeast: 128) }

    /// The best Dice over the 256 thresholds, and its level.
    public var bestDice: (dice: Double, level: Int) {
        (1...255).map { (dice(atLeast: $0), $0) }.max { $0.0 < $1.0 } ?? (0, 0)
    }

    /// Area under the ROC curve: P(score of a vessel pixel > a background pixel's) + ½ P(equal).
    public var auc: Double {
        let p = Double(totalPositives), n = Double(totalNegatives)
        guard p > 0, n > 0 else { return .nan }
        var below = 0.0, sum = 0.0
        for level in 0..<256 {
            sum += Double(positives[level]) * (below + 0.5 * Double(negatives[level]))
            below += Double(negatives[level])
        }
        return sum / (p * n)
    }

    /// Precision at the highest threshold whose recall reaches `recall` (0.9 by default).
    public func precision(atRecall recall: Double = 0.9) -> Double {
        let p = totalPositives
        guard p > 0 else { return .nan }
        for level in stride(from: 255, through: 0, by: -1) {
            let (tp, fp) = counts(atLeast: level)
            if Double(tp) >= recall * Double(p) { return Double(tp) / Double(max(1, tp + fp)) }
        }
        return .nan
    }

    /// The summary as plain numbers (for JSON and tables).
    public var summary: [String: Double] {
        ["dice_at_0.5": diceAtHalf, "dice_best": bestDice.dice, "dice_best_threshold": Double(bestDice.level) / 255,
         "auc": auc, "precision_at_90_recall": precision(), "vessel_fraction": Double(totalPositives) / Double(max(1, totalPositives + totalNegatives))]
    }
}
