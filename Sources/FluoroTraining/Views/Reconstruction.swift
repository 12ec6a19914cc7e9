import FluoroModel
import FluoroShards
import FluoroTensor
import Foundation

/// What FIMAE-SC makes of the panel clips: the reconstruction in the clips' own units and the
/// vesselness probabilities, both [K, T, S, S] like the inputs.
public struct Reconstruction {
    /// The clips, masks and vesselness targets.
    public let inputs: ReconstructionInputs
    /// The hidden tokens as predicted — de-normalised per token with the mean and standard
    /// deviation of that token's true pixels (the loss's normalised target, undone) — and the
    /// visible tokens as they were; nil when the run has wRec = 0.
    public let pixels: [Float]?
    /// sigmoid(logits) of the vesselness decoder over every token; nil when wVes = 0.
    public let vesselness: [Float]?
    /// The loss terms of the panel clips.
    public let losses: FIMAESC.LossTerms

    /// Runs `model` (whose batch is `inputs.count`) forward on the inputs.
    public init(model: FIMAESC, inputs: ReconstructionInputs) throws {
        let losses = try model.forward(clip: inputs.clips, vessel: inputs.vesselness, mask: inputs.mask)
        let c = model.config
        let patches = Self.patchify(inputs.clips, c, batch: inputs.count)
        self.inputs = inputs
        self.losses = losses
        pixels = model.reconstructionPredictions.map { prediction in
            var tokens = patches
            Self.denormaliseHidden(&tokens, prediction: prediction, mask: inputs.mask, values: c.tokenValues)
            return Self.unpatchify(tokens, c, batch: inputs.count)
        }
        vesselness = model.vesselnessLogits.map { logits in
            Self.unpatchify(logits.map { 1 / (1 + exp(-$0)) }, c, batch: inputs.count)
        }
    }

    /// Replaces each hidden token of `tokens` [M, V] by its prediction times the token's
    /// standard deviation (unbiased, + 1e-6 in the variance, as `Losses.normalisedTarget`) plus its mean.
    static func denormaliseHidden(_ tokens: inout [Float], prediction: [Float], mask: [UInt8], values V: Int) {
        for r in 0..<mask.count where mask[r] != 0 {
            let row = tokens[(r * V)..<((r + 1) * V)]
            let mean = row.reduce(0, +) / Float(V)
            let variance = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(V - 1)
            let std = (variance + 1e-6).squareRoot()
            for j in 0..<V { tokens[r * V + j] = prediction[r * V + j] * std + mean }
        }
    }

    /// clips [B, T, S, S] → tokens [B*N, V] (`Tokens.patchify`).
    static func patchify(_ clips: [Float], _ c: ModelConfig, batch: Int) -> [Float] {
        var out = [Float](repeating: 0, count: batch * c.tokens * c.tokenValues)
        out.withUnsafeMutableBufferPointer { o in
            clips.withUnsafeBufferPointer { x in
                Tokens.patchify(out: o.baseAddress!, clip: x.baseAddress!, batch: batch, frames: c.frames, size: c.size,
                                tubelet: c.tubelet, patch: c.patch)
            }
        }
        return out
    }

    /// tokens [B*N, V] → clips [B, T, S, S], the inverse of `Tokens.patchify`
    /// (token n = (t'*(S/p) + h')*(S/p) + w', pixel order (dt, dy, dx)).
    static func unpatchify(_ tokens: [Float], _ c: ModelConfig, batch B: Int) -> [Float] {
        let (T, S, tt, p) = (c.frames, c.size, c.tubelet, c.patch)
        let g = S / p, slots = T / tt, V = tt * p * p
        var clip = [Float](repeating: 0, count: B * T * S * S)
        for b in 0..<B {
            for t in 0..<slots { for hy in 0..<g { for wx in 0..<g {
                let n = (t * g + hy) * g + wx
                for dt in 0..<tt { for dy in 0..<p { for dx in 0..<p {
                    let value = tokens[(b * slots * g * g + n) * V + (dt * p + dy) * p + dx]
                    clip[((b * T + t * tt + dt) * S + hy * p + dy) * S + wx * p + dx] = value
                } } }
            } } }
        }
        return clip
    }
}
