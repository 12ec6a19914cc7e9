import FluoroModel
import FluoroTensor
import Foundation

/// Automatic initialisation (METHOD §10): the encoder over a whole first frame resized to Sc x Sc
/// and repeated tt times (one slot, all tokens, final LayerNorm), then a CNN head of the heatmap
/// head's shape (`detector_head.*`) → logits [B, Sc, Sc]; trained with the same soft Dice.
public final class HiFTDetector {
    public let config: HiFTConfig
    public let batch: Int
    /// `encoder.*` (its own copy, from the same pretrained encoder) and `detector_head.*`.
    public let parameters: ParameterArena
    let encoder: ViTEncoder
    let head: HeatmapHead
    let repeated: FloatBuffer  // [B, tt, Sc, Sc]
    let dTokens: FloatBuffer   // [B, g², D]

    public init(config: HiFTConfig, batch: Int, seed: UInt64 = 0) {
        self.config = config
        self.batch = batch
        let arena = ParameterArena(specs: HiFTParameters.detectorSpecs(for: config))
        arena.initialize(seed: seed)
        parameters = arena
        encoder = ViTEncoder(config: config.detectorEncoderConfig, batch: batch, arena: arena)
        head = HeatmapHead(prefix: "detector_head", config: config, batch: batch, arena: arena)
        repeated = FloatBuffer(count: batch * config.tubelet * config.crop * config.crop)
        dTokens = FloatBuffer(count: batch * config.queries * config.width)
    }

    /// Logits [B, Sc, Sc] of standardised frames [B, Sc, Sc]. The buffer is reused by the next call.
    @discardableResult
    public func forward(frames: UnsafePointer<Float>) -> UnsafePointer<Float> {
        let P = config.crop * config.crop, tt = config.tubelet
        for b in 0..<batch { for t in 0..<tt { (repeated.pointer + (b * tt + t) * P).update(from: frames + b * P, count: P) } }
        let tokens = encoder.forward(clip: repeated.pointer).baseAddress!
        return head.forward(tokens: tokens, frames: frames, frameStride: P)
    }

    /// Zeroes the gradients, runs forward and backward on frames [B, Sc, Sc] against landmarks
    /// [B, K, 2] (detector pixels; NaN = absent) with Gaussians of `sigma` px; returns the mean soft Dice (+ the
    /// weighted focal loss when the config asks for it).
    public func forwardBackward(frames: [Float], points: [Float], sigma: Float) throws -> Float {
        let P = config.crop * config.crop
        guard frames.count == batch * P else { throw ModelInputError.wrongCount(input: "frames", expected: batch * P, found: frames.count) }
        parameters.zeroGradients()
        let targets = GaussianTargets.make(points: points, batch: batch, landmarks: config.landmarks, size: config.crop, sigma: sigma)
        let logits = frames.withUnsafeBufferPointer { forward(frames: $0.baseAddress!) }
        let losses = SoftDice.forward(logits: logits, targets: targets, batch: batch, pixels: P)
        let dLogits = FloatBuffer(count: batch * P)
        SoftDice.backward(dLogits: dLogits.pointer, logits: logits, targets: targets,
                          weights: Array(repeating: 1 / Double(batch), count: batch), batch: batch, pixels: P)
        var focal = 0.0
        if let w = config.heatmapFocalWeight, w > 0 {
            let present = GaussianTargets.presentCount(points: points)
            focal = Double(w) * targets.withUnsafeBufferPointer { t in
                QualityFocalLoss.forward(logits: logits, targets: t.baseAddress!, count: batch * P, normaliser: Double(max(1, present)),
                                         gradient: dLogits.pointer, scale: w)
            }
        }
        dTokens.zero()
        head.backward(dLogits: dLogits.pointer, dTokens: dTokens.pointer)
        encoder.backward(dTokens: dTokens.pointer)
        return Float(losses.reduce(0, +) / Double(batch) + focal)
    }

    /// Loads the encoder views from an exported encoder (`encoder.*`), checking shapes.
    public func loadEncoder(from file: SafetensorsFile) throws {
        try parameters.loadViews(from: file, where: { $0.hasPrefix("encoder.") })
    }
}
