import Foundation

/// Errors in a model configuration, naming the field and what to do.
public enum ConfigError: Error, CustomStringConvertible, Equatable {
    case unknownPreset(String, known: [String])
    case unknownField(String, file: String)
    case invalid(String)
    case unreadable(file: String, reason: String)

    public var description: String {
        switch self {
        case let .unknownPreset(name, known):
            return "unknown preset '\(name)'; choose one of \(known.joined(separator: ", "))"
        case let .unknownField(field, file):
            return "\(file): unknown field '\(field)' (fields are the keys of ModelConfig, e.g. \"depth\", \"width\")"
        case let .invalid(why): return "invalid model configuration: \(why)"
        case let .unreadable(file, reason): return "cannot read config \(file): \(reason)"
        }
    }
}

/// FIMAE-SC's shape and loss settings (METHOD §2–§6). Presets `tiny`, `bench`, `small`, `base`;
/// a JSON file can override any field.
public struct ModelConfig: Codable, Equatable, Sendable {
    /// Frames per clip (T) and clip side in pixels (S).
    public var frames: Int
    public var size: Int
    /// Tubelet depth (tt) and patch side (p).
    public var tubelet: Int
    public var patch: Int
    /// Encoder width (D), depth and heads.
    public var width: Int
    public var depth: Int
    public var heads: Int
    /// Decoder width (Dd), depth (L) and heads, shared by both decoders.
    public var decoderWidth: Int
    public var decoderDepth: Int
    public var decoderHeads: Int
    /// MLP hidden width = mlpRatio x width.
    public var mlpRatio: Int
    /// LayerNorm epsilon.
    public var layerNormEps: Float
    /// Tube mask ratio (hidden cells per slot) and frame mask ratio (in frame-masked slots).
    public var tubeRatio: Double
    public var frameRatio: Double
    /// Temporal slots per clip whose cells are frame-masked (default 25% of the slots).
    public var frameMaskedSlots: Int
    /// Loss weights: L = wRec * L_rec + wVes * L_ves. wVes = 0 is plain FIMAE.
    public var wRec: Float
    public var wVes: Float
    /// The loader's smallest crop side as a fraction of a frame's shorter side (random resized
    /// crops, `ClipSpec.minimumScale`); nil = METHOD §2's 0.66. Other values are not METHOD: 0.5
    /// on 256-px frames shows the anatomy at the scale of the tracker's 128-px crops. Omitted
    /// from the JSON when nil.
    public var minimumCropScale: Double?
    /// The largest crop side as a fraction of the shorter side; nil = METHOD §2's 1. With
    /// `minimumCropScale` equal to it every crop has one scale (0.5 and 0.5 on 256-px frames: the
    /// tracker's scale exactly). Omitted from the JSON when nil.
    public var maximumCropScale: Double?

    /// Fields that may be absent from a config file (an override may still set them).
    static let optionalFields: Set<String> = ["minimumCropScale", "maximumCropScale"]

    // MARK: derived sizes

    /// Temporal slots T/tt.
    public var slots: Int { frames / tubelet }
    /// Spatial cells per slot (S/p)^2.
    public var cellsPerSlot: Int { (size / patch) * (size / patch) }
    /// Tokens per clip N.
    public var tokens: Int { slots * cellsPerSlot }
    /// Values per token tt*p*p.
    public var tokenValues: Int { tubelet * patch * patch }
    /// Hidden cells in a tube-masked slot: round(tubeRatio * C).
    public var tubeHidden: Int { Int((tubeRatio * Double(cellsPerSlot)).rounded(.toNearestOrEven)) }
    /// Hidden cells in a frame-masked slot: round(frameRatio * C).
    public var frameHidden: Int { Int((frameRatio * Double(cellsPerSlot)).rounded(.toNearestOrEven)) }
    /// Hidden tokens per clip (the same for every clip).
    public var hiddenTokens: Int { (slots - frameMaskedSlots) * tubeHidden + frameMaskedSlots * frameHidden }
    /// Visible tokens per clip.
    public var visibleTokens: Int { tokens - hiddenTokens }

    // MARK: presets

    public static let tiny = ModelConfig(frames: 4, size: 48, tubelet: 2, patch: 8, width: 32, depth: 2, heads: 2,
                                         decoderWidth: 16, decoderDepth: 1, decoderHeads: 2, frameMaskedSlots: 1)
    public static let bench = ModelConfig(frames: 16, size: 128, tubelet: 2, patch: 16, width: 192, depth: 4, heads: 3,
                                          decoderWidth: 96, decoderDepth: 2, decoderHeads: 3, frameMaskedSlots: 2)
    public static let small = ModelConfig(frames: 16, size: 224, tubelet: 2, patch: 16, width: 384, depth: 12, heads: 6,
                                          decoderWidth: 192, decoderDepth: 4, decoderHeads: 3, frameMaskedSlots: 2)
    public static let base = ModelConfig(frames: 16, size: 224, tubelet: 2, patch: 16, width: 768, depth: 12, heads: 12,
                                         decoderWidth: 384, decoderDepth: 4, decoderHeads: 6, frameMaskedSlots: 2)

    /// Presets by name.
    public static let presets: [String: ModelConfig] = ["tiny": tiny, "bench": bench, "small": small, "base": base]

    public init(frames: Int, size: Int, tubelet: Int, patch: Int, width: Int, depth: Int, heads: Int,
                decoderWidth: Int, decoderDepth: Int, decoderHeads: Int, mlpRatio: Int = 4, layerNormEps: Float = 1e-6,
                tubeRatio: Double = 0.75, frameRatio: Double = 0.98, frameMaskedSlots: Int,
                wRec: Float = 1, wVes: Float = 1) {
        self.frames = frames; self.size = size; self.tubelet = tubelet; self.patch = patch
        self.width = width; self.depth = depth; self.heads = heads
        self.decoderWidth = decoderWidth; self.decoderDepth = decoderDepth; self.decoderHeads = decoderHeads
        self.mlpRatio = mlpRatio; self.layerNormEps = layerNormEps
        self.tubeRatio = tubeRatio; self.frameRatio = frameRatio; self.frameMaskedSlots = frameMaskedSlots
        self.wRec = wRec; self.wVes = wVes
    }

    /// METHOD §4's F for `slots` slots: 25% of them, rounded, at least 1 (2 of 8; 1 of 2 for `tiny`).
    public static func defaultFrameMaskedSlots(slots: Int) -> Int {
        min(slots, max(1, Int((0.25 * Double(slots)).rounded())))
    }

    /// The named preset.
    public static func preset(_ name: String) throws -> ModelConfig {
        guard let config = presets[name] else { throw ConfigError.unknownPreset(name, known: presets.keys.sorted()) }
        return config
    }

    /// This config with the fields of a JSON object replaced; unknown fields are an error. When
    /// `frames` or `tubelet` change and `frameMaskedSlots` is not given, it becomes 25% of the new
    /// slot count (`defaultFrameMaskedSlots`).
    public func overriding(withJSON data: Data, file: String = "config") throws -> ModelConfig {
        let overrides: [String: Any]
        do {
            guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw ConfigError.unreadable(file: file, reason: "the top level must be a JSON object")
            }
            overrides = object
        } catch let error as ConfigError { throw error } catch {
            throw ConfigError.unreadable(file: file, reason: "not valid JSON (\(error.localizedDescription))")
        }
        var fields = try JSONSerialization.jsonObject(with: JSONEncoder().encode(self)) as! [String: Any]
        for (key, value) in overrides {
            guard fields[key] != nil || Self.optionalFields.contains(key) else { throw ConfigError.unknownField(key, file: file) }
            fields[key] = value
        }
        // METHOD §4: F is 25% of the slots; a config that changes the slot count follows unless it sets F.
        if overrides["frameMaskedSlots"] == nil && (overrides["frames"] != nil || overrides["tubelet"] != nil),
           let frames = fields["frames"] as? Int, let tubelet = fields["tubelet"] as? Int, tubelet > 0 {
            fields["frameMaskedSlots"] = Self.defaultFrameMaskedSlots(slots: frames / tubelet)
        }
        let merged: ModelConfig
        do {
            merged = try JSONDecoder().decode(ModelConfig.self, from: JSONSerialization.data(withJSONObject: fields))
        } catch {
            throw ConfigError.unreadable(file: file, reason: "a field has the wrong type (\(error))")
        }
        try merged.validate()
        return merged
    }

    /// Checks that the shapes fit together; throws naming the first problem.
    public func validate() throws {
        func require(_ ok: Bool, _ why: String) throws { if !ok { throw ConfigError.invalid(why) } }
        try require(frames > 0 && size > 0 && tubelet > 0 && patch > 0, "frames, size, tubelet and patch must be positive")
        try require(frames % tubelet == 0, "frames (\(frames)) must be a multiple of tubelet (\(tubelet))")
        try require(size % patch == 0, "size (\(size)) must be a multiple of patch (\(patch))")
        try require(width > 0 && heads > 0 && width % heads == 0, "width (\(width)) must be a positive multiple of heads (\(heads))")
        try require(decoderWidth > 0 && decoderHeads > 0 && decoderWidth % decoderHeads == 0,
                    "decoderWidth (\(decoderWidth)) must be a positive multiple of decoderHeads (\(decoderHeads))")
        try require(depth >= 0 && decoderDepth >= 0 && mlpRatio > 0, "depths must be >= 0 and mlpRatio > 0")
        try require((0...1).contains(tubeRatio) && (0...1).contains(frameRatio), "mask ratios must lie in [0, 1]")
        try require(frameMaskedSlots >= 0 && frameMaskedSlots <= slots, "frameMaskedSlots must lie in 0...\(slots)")
        try require(visibleTokens > 0, "the masks hide every token; lower tubeRatio/frameRatio")
        try require(wRec >= 0 && wVes >= 0 && wRec + wVes > 0, "loss weights must be >= 0 and not both 0")
        if let scale = minimumCropScale { try require(scale > 0 && scale <= 1, "minimumCropScale (\(scale)) must lie in (0, 1]") }
        if let scale = maximumCropScale {
            let low = minimumCropScale ?? 0.66
            try require(scale >= low && scale <= 1, "maximumCropScale (\(scale)) must lie in [minimumCropScale (\(low)), 1]")
        }
    }
}
