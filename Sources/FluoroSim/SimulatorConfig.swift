/// What kind of run the simulator makes (METHOD §12).
public enum RunKind: String, Codable, Sendable, CaseIterable {
    /// Contrast washes in and out: the coronary tree becomes visible.
    case angio
    /// No contrast: only devices and anatomy.
    case fluoro
    /// Half angiography, half fluoroscopy, chosen per sequence from the seed.
    case mixed
}

/// Settings of the synthetic X-ray simulator. Every field has a default; a run is a pure
/// function of (config, seed, sequence index). Decoding accepts a JSON with any subset of fields.
public struct SimulatorConfig: Codable, Equatable, Sendable {
    /// Frames per sequence.
    public var frames: Int = 32
    /// Frame side in pixels (square frames).
    public var size: Int = 256
    /// Frame interval in milliseconds (cine at 15 fps = 66.7 ms).
    public var frameTimeMs: Double = 66.7
    /// Pixel spacing in millimetres at this size (a 512 px detector field of ~ 150 mm).
    public var pixelSpacingMm: Double { SimulatorConfig.fieldOfViewMm / Double(max(size, 1)) }
    /// Angiography, fluoroscopy or a mix.
    public var kind: RunKind = .mixed
    /// Base seed; sequence i uses a sub-stream derived from (seed, i).
    public var seed: UInt64 = 0
    /// Probability that a run carries a guidewire and a balloon catheter with its two markers.
    public var balloonProbability: Double = 0.75
    /// When false, no distractor devices (other wires, sternal wires, clips); anatomy stays.
    public var distractors: Bool = true
    /// Detected X-ray quanta per pixel at full intensity, quoted for a 512 px frame (scaled by
    /// pixel area at other sizes). Lower means noisier (low dose).
    public var photonsPerPixel: Double = 1200
    /// A landmark is occluded when the attenuation at its position from contrast and from devices
    /// outside its own device chain is at least this fraction of the landmark's own attenuation.
    public var occlusionFraction: Double = 0.5

    /// Side of the square field of view in millimetres, whatever the size.
    public static let fieldOfViewMm: Double = 150

    public init(frames: Int = 32, size: Int = 256, frameTimeMs: Double = 66.7, kind: RunKind = .mixed, seed: UInt64 = 0,
                balloonProbability: Double = 0.75, distractors: Bool = true, photonsPerPixel: Double = 1200,
                occlusionFraction: Double = 0.5) {
        self.frames = frames
        self.size = size
        self.frameTimeMs = frameTimeMs
        self.kind = kind
        self.seed = seed
        self.balloonProbability = balloonProbability
        self.distractors = distractors
        self.photonsPerPixel = photonsPerPixel
        self.occlusionFraction = occlusionFraction
    }

    private enum CodingKeys: String, CodingKey {
        case frames, size, frameTimeMs, kind, seed, balloonProbability, distractors, photonsPerPixel, occlusionFraction
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = SimulatorConfig()
        frames = try c.decodeIfPresent(Int.self, forKey: .frames) ?? d.frames
        size = try c.decodeIfPresent(Int.self, forKey: .size) ?? d.size
        frameTimeMs = try c.decodeIfPresent(Double.self, forKey: .frameTimeMs) ?? d.frameTimeMs
        kind = try c.decodeIfPresent(RunKind.self, forKey: .kind) ?? d.kind
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed
        balloonProbability = try c.decodeIfPresent(Double.self, forKey: .balloonProbability) ?? d.balloonProbability
        distractors = try c.decodeIfPresent(Bool.self, forKey: .distractors) ?? d.distractors
        photonsPerPixel = try c.decodeIfPresent(Double.self, forKey: .photonsPerPixel) ?? d.photonsPerPixel
        occlusionFraction = try c.decodeIfPresent(Double.self, forKey: .occlusionFraction) ?? d.occlusionFraction
    }

    /// Describes the first setting the simulator cannot use, or nil when all are usable.
    public func validationProblem() -> String? {
        if frames < 1 { return "simulator config: frames must be at least 1 (got \(frames))" }
        if size < 16 || size > 8192 { return "simulator config: size must be in 16...8192 pixels (got \(size))" }
        if !(frameTimeMs > 0) { return "simulator config: frameTimeMs must be positive (got \(frameTimeMs))" }
        if !(0...1).contains(balloonProbability) {
            return "simulator config: balloonProbability must be in 0...1 (got \(balloonProbability))"
        }
        if !(photonsPerPixel > 0) { return "simulator config: photonsPerPixel must be positive (got \(photonsPerPixel))" }
        if !(occlusionFraction > 0) { return "simulator config: occlusionFraction must be positive (got \(occlusionFraction))" }
        return nil
    }
}
