import FluoroTensor

/// The labeller's loss (METHOD §9): soft Dice (per image, averaged over the batch) plus the mean
/// binary cross-entropy with logits over every pixel, both against the 0/1 vessel mask.
public struct SegmentationLoss: Equatable, Sendable {
    public var total: Float
    public var dice: Float
    public var bce: Float
    /// The total in Double (for finite differences).
    public var precise: Double

    /// The loss of logits [B, P] against targets [B, P]; writes dLogits [B, P] (overwritten).
    public static func compute(logits: UnsafePointer<Float>, targets: UnsafePointer<Float>, batch B: Int, pixels P: Int,
                               dLogits: UnsafeMutablePointer<Float>) -> SegmentationLoss {
        let bce = Losses.bceWithLogits(logits: logits, labels: targets, count: B * P, gradient: dLogits, scale: 1)
        let perImage = SoftDice.forward(logits: logits, targets: targets, batch: B, pixels: P)
        SoftDice.backward(dLogits: dLogits, logits: logits, targets: targets, weights: Array(repeating: 1 / Double(B), count: B),
                          batch: B, pixels: P)
        let dice = perImage.reduce(0, +) / Double(B)
        return SegmentationLoss(total: Float(dice) + bce, dice: Float(dice), bce: bce, precise: dice + Double(bce))
    }
}
