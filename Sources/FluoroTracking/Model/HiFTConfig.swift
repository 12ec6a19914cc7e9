import FluoroModel
import Foundation

/// HiFT's shape (METHOD §10): the encoder's fields (they must match the pretrained encoder's), the
/// window and crop, the landmarks, the correlation tokens, the decoder and the CNN head.
/// Presets `tiny` and `bench` are the reference's; any field can be overridden from JSON.
public struct HiFTConfig: Codable, Equatable, Sendable {
    /// Encoder: tubelet depth (tt), patch side (p), width (D), depth and heads, MLP ratio, LayerNorm eps.
    public var tubelet: Int
    public var patch: Int
    public var width: Int
    public var depth: Int
    public var heads: Int
    public var mlpRatio: Int = 4
    public var layerNormEps: Float = 1e-6
    /// Frames per window (W, a multiple of tt) and crop side in pixels (Sc, a multiple of p).
    public var window: Int
    public var crop: Int
    /// Landmarks tracked (K): 1 for a catheter tip, 2 for a marker pair.
    public var landmarks: Int
    /// Trajectory bins per axis (G).
    public var trajectoryBins: Int
    /// Cross-attention decoder blocks (Ld).
    public var decoderDepth: Int
    /// CNN head channels: one for the conv at the token grid, then one per x2 upsampling (log2 p of them).
    public var headChannels: [Int]
    /// Target Gaussian sigma in crop pixels, and the weight of the auxiliary catheter-body loss.
    public var sigma: Float = 2
    public var catheterWeight: Float = 0.5
    /// Weight of a pixel-wise binary cross-entropy added to the heatmap's soft Dice (0: METHOD §10's
    /// loss exactly). Soft Dice alone has a vanishing gradient once every pixel is near 0, which a
    /// σ = 2 px target in a 128 px crop reaches within a few dozen steps from scratch (measured:
    /// docs/RESULTS.md); the cross-entropy's gradient at the target does not vanish.
    public var heatmapBCEWeight: Float = 0
    /// Weight of a quality focal loss (`QualityFocalLoss`, summed over pixels per landmark) added to
    /// the heatmap's soft Dice; nil or 0: off. It keeps the landmark pixels' gradient alive where
    /// pixel-mean BCE lets the background drown them (docs/RESULTS.md).
    public var heatmapFocalWeight: Float?
    /// A σ curriculum: the target's sigma starts here and falls linearly to `sigma` over the first
    /// half of fine-tuning (nil: `sigma` throughout). A wide target is found before a narrow one.
    public var sigmaStart: Float?
    /// Fraction of fine-tuning samples whose window is replaced by unit Gaussian noise (and whose
    /// catheter mask is dropped), so that only the past estimates tell where the landmark is; nil or
    /// 0: off. It teaches the decoder to use the trajectory tokens, which on real windows it can
    /// otherwise leave unused for the more salient appearance (docs/RESULTS.md).
    public var trajectoryOnlyFraction: Float?
    /// Start the trajectory embeddings as 2-D sin-cos codes of their bins (x in the first half of
    /// the width, y in the second) instead of random rows, so neighbouring bins start alike and what
    /// one bin learns carries to the next; nil or false: random (the reference's). Not METHOD §10.
    public var trajectoryPositionInit: Bool?
    /// Add to every decoder query (the current slot's tokens) the fixed 2-D sin-cos code of its
    /// cell, the code `trajectoryPositionInit` gives the trajectory bin of the cell's centre (x in the
    /// first half of the width, y in the second), as DETR adds positions to its cross-attention
    /// queries; no parameters. With `trajectoryPositionInit` a query and a trajectory token of the
    /// same place start with equal codes, so attending to the past position is there from the
    /// start instead of learnt through the encoder's 1-D token positions. nil or false: off (METHOD §10).
    public var queryPositionCodes: Bool?
    /// Also train on windows ending at frames 1 … W-2 of a run, padded as the tracker pads them
    /// (the run's first frame and its landmarks repeated), so the first frames of an online run are
    /// not outside what fine-tuning showed; nil or false: windows of W real frames only.
    public var paddedStarts: Bool?
    /// The spread (crop px) of the noise on fine-tuning's past estimates for the 90% of samples
    /// METHOD §10 gives 1 px (the other 10% keep 4 px, or this when larger); nil: 1 px. A past
    /// that is only roughly right makes the network find the landmark in the frame rather than
    /// copy where it was (docs/RESULTS.md).
    public var pastNoise: Float?
    /// The spread (crop px) of an offset added to all of a landmark's past estimates in a
    /// fine-tuning sample (drawn per sample and landmark, shared by its past frames), as an online
    /// tracker that is off keeps the same error from frame to frame; nil or 0: none. It teaches
    /// finding the landmark near a past that is consistently wrong (docs/RESULTS.md).
    public var pastOffset: Float?
    /// Every head conv after an upsampling also sees the current frame average-pooled to its side
    /// (one more input channel, a U-Net-style skip), so a landmark the tokens place within a patch
    /// is found to the pixel in the frame itself; nil or false: METHOD §10's head, tokens only.
    public var headImageSkip: Bool?
    /// Ablation switches (Table 3): attend to appearance tokens, to trajectory tokens. With both
    /// off the decoder has nothing to attend to: its cross-attention is skipped, its MLPs remain.
    public var appearanceTokens: Bool = true
    public var trajectoryTokens: Bool = true

    public init(tubelet: Int, patch: Int, width: Int, depth: Int, heads: Int, window: Int, crop: Int, landmarks: Int,
                trajectoryBins: Int, decoderDepth: Int, headChannels: [Int]) {
        self.tubelet = tubelet; self.patch = patch; self.width = width; self.depth = depth; self.heads = heads
        self.window = window; self.crop = crop; self.landmarks = landmarks; self.trajectoryBins = trajectoryBins
        self.decoderDepth = decoderDepth; self.headChannels = headChannels
    }

    // MARK: derived sizes

    /// Token grid side g = Sc / p.
    public var grid: Int { crop / patch }
    /// Temporal slots W / tt.
    public var slots: Int { window / tubelet }
    /// Encoder tokens per window: slots * g^2.
    public var tokens: Int { slots * grid * grid }
    /// Query tokens (the current slot's): g^2.
    public var queries: Int { grid * grid }
    /// x2 upsampling stages of the head: log2 p.
    public var stages: Int { Int(log2(Double(patch)).rounded()) }
    /// The target's sigma at `progress` ∈ [0, 1] of fine-tuning (the σ curriculum).
    public func targetSigma(progress: Double) -> Float {
        guard let start = sigmaStart, start > 0 else { return sigma }
        let left = Float(max(0, 1 - progress / 0.5))
        return sigma + (start - sigma) * left
    }
    /// Side of the appearance window, in tokens.
    public static let appearanceSide = 3
    /// Appearance tokens: (slots - 1) * K * 9 when on.
    public var appearanceCount: Int { appearanceTokens ? (slots - 1) * landmarks * Self.appearanceSide * Self.appearanceSide : 0 }
    /// Trajectory tokens: (W - 1) * K when on.
    public var trajectoryCount: Int { trajectoryTokens ? (window - 1) * landmarks : 0 }
    /// Correlation (context) tokens per sample.
    public var contextTokens: Int { appearanceCount + trajectoryCount }

    /// The encoder's shape as a FIMAE-SC config over a window (its decoder fields are unused).
    public var encoderConfig: ModelConfig {
        ModelConfig(frames: window, size: crop, tubelet: tubelet, patch: patch, width: width, depth: depth, heads: heads,
                    decoderWidth: width, decoderDepth: 0, decoderHeads: heads, mlpRatio: mlpRatio,
                    layerNormEps: layerNormEps, frameMaskedSlots: 0)
    }

    /// The detector's encoder: one slot (the first frame repeated tt times) over the crop side.
    public var detectorEncoderConfig: ModelConfig {
        var c = encoderConfig
        c.frames = tubelet
        return c
    }

    // MARK: presets

    /// The reference's `tiny` (parity fixtures).
    public static let tiny = HiFTConfig(tubelet: 2, patch: 8, width: 32, depth: 2, heads: 2, window: 4, crop: 32, landmarks: 2,
                                        trajectoryBins: 16, decoderDepth: 1, headChannels: [16, 8, 8, 8])
    /// The reference's `bench`: the `bench` pretraining encoder, W 6, Sc 128 (256-px frames).
    public static let bench = HiFTConfig(tubelet: 2, patch: 16, width: 192, depth: 4, heads: 3, window: 6, crop: 128,
                                         landmarks: 2, trajectoryBins: 64, decoderDepth: 2, headChannels: [64, 32, 16, 8, 8])
    public static let presets: [String: HiFTConfig] = ["tiny": tiny, "bench": bench]

    /// The named preset, or an error listing the known ones.
    public static func preset(_ name: String) throws -> HiFTConfig {
        guard let c = presets[name] else { throw ConfigError.unknownPreset(name, known: presets.keys.sorted()) }
        return c
    }

    /// This config with the encoder fields of a pretrained encoder (width, depth, heads, tubelet,
    /// patch, MLP ratio, eps); the tracker's own fields stay.
    public func adopting(encoder e: ModelConfig) -> HiFTConfig {
        var c = self
        c.tubelet = e.tubelet; c.patch = e.patch; c.width = e.width; c.depth = e.depth; c.heads = e.heads
        c.mlpRatio = e.mlpRatio; c.layerNormEps = e.layerNormEps
        return c
    }

    /// Checks that the shapes fit together; throws naming the first problem.
    public func validate() throws {
        func require(_ ok: Bool, _ why: String) throws { if !ok { throw ConfigError.invalid(why) } }
        try require(tubelet > 0 && patch > 0 && width > 0 && heads > 0 && depth >= 0, "tubelet, patch, width, heads must be positive")
        try require(width % heads == 0, "width (\(width)) must be a multiple of heads (\(heads))")
        try require(patch & (patch - 1) == 0, "patch (\(patch)) must be a power of two (the head upsamples x2 per stage)")
        try require(window >= 2 * tubelet && window % tubelet == 0, "window (\(window)) must be a multiple of tubelet (\(tubelet)) with at least two slots")
        try require(crop % patch == 0 && crop / patch >= 3, "crop (\(crop)) must be a multiple of patch (\(patch)) with a token grid of at least 3")
        try require(landmarks >= 1, "landmarks must be at least 1")
        try require(trajectoryBins >= 1, "trajectoryBins must be positive")
        try require(decoderDepth >= 0, "decoderDepth must be >= 0")
        try require(headChannels.count == stages + 1 && headChannels.allSatisfy { $0 > 0 },
                    "headChannels needs \(stages + 1) positive counts (one for the grid conv, one per x2 upsampling of patch \(patch)); got \(headChannels)")
        try require(sigma > 0 && catheterWeight >= 0 && heatmapBCEWeight >= 0 && (heatmapFocalWeight ?? 0) >= 0,
                    "sigma must be > 0, catheterWeight, heatmapBCEWeight and heatmapFocalWeight >= 0")
        try require((sigmaStart ?? 1) > 0, "sigmaStart must be > 0 (or absent)")
        try require((pastNoise ?? 1) >= 0, "pastNoise must be >= 0 (crop pixels; or absent: 1)")
        try require((pastOffset ?? 0) >= 0, "pastOffset must be >= 0 (crop pixels; or absent: none)")
        try require((0..<1).contains(trajectoryOnlyFraction ?? 0), "trajectoryOnlyFraction must be in [0, 1) (or absent)")
    }

    /// Fields that may be absent (JSON omits them when nil).
    static let optionalFields: Set<String> = ["heatmapFocalWeight", "sigmaStart", "trajectoryOnlyFraction", "trajectoryPositionInit",
                                              "queryPositionCodes", "paddedStarts", "pastNoise", "pastOffset", "headImageSkip"]

    /// This config with the fields of a JSON object replaced; unknown fields are an error.
    public func overriding(withJSON data: Data, file: String = "config") throws -> HiFTConfig {
        guard let overrides = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ConfigError.unreadable(file: file, reason: "not a JSON object")
        }
        var fields = try JSONSerialization.jsonObject(with: JSONEncoder().encode(self)) as! [String: Any]
        for (key, value) in overrides {
            guard fields[key] != nil || Self.optionalFields.contains(key) else { throw ConfigError.unknownField(key, file: file) }
            fields[key] = value
        }
        let merged: HiFTConfig
        do { merged = try JSONDecoder().decode(HiFTConfig.self, from: JSONSerialization.data(withJSONObject: fields)) } catch {
            throw ConfigError.unreadable(file: file, reason: "a field has the wrong type (\(error))")
        }
        try merged.validate()
        return merged
    }

    /// The config of a `hift_reference.py fixture` file's metadata (keys tt, p, D, depth, heads, W,
    /// Sc, K, G, Ld, C, sigma, w_catheter).
    public init(referenceMetadata json: String) throws {
        guard let o = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
            throw ConfigError.unreadable(file: "fixture metadata", reason: "not a JSON object")
        }
        func int(_ k: String) throws -> Int {
            guard let v = (o[k] as? NSNumber)?.intValue else { throw ConfigError.unreadable(file: "fixture metadata", reason: "no integer '\(k)'") }
            return v
        }
        guard let channels = (o["C"] as? [NSNumber])?.map(\.intValue) else {
            throw ConfigError.unreadable(file: "fixture metadata", reason: "no list 'C'")
        }
        self.init(tubelet: try int("tt"), patch: try int("p"), width: try int("D"), depth: try int("depth"), heads: try int("heads"),
                  window: try int("W"), crop: try int("Sc"), landmarks: try int("K"), trajectoryBins: try int("G"),
                  decoderDepth: try int("Ld"), headChannels: channels)
        if let s = (o["sigma"] as? NSNumber)?.floatValue { sigma = s }
        if let w = (o["w_catheter"] as? NSNumber)?.floatValue { catheterWeight = w }
        try validate()
    }
}
