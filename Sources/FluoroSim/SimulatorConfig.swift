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
/// function of (config, seed, sequence index).
public struct SimulatorConfig: Codable, Equatable, Sendable {
    /// Frames per sequence.
    public var frames: Int = 32
    /// Frame side in pixels (square frames).
    public var size: Int = 256
    /// Frame interval in milliseconds (cine at 15 fps = 66.7 ms).
    public var frameTimeMs: Double = 66.7
    /// Pixel spacing in millimetres at this size (a 512 px detector field of ~ 150 mm).
    public var pixelSpacingMm: Double { 150.0 / Double(size) }
    /// Angiography, fluoroscopy or a mix.
    public var kind: RunKind = .mixed
    /// Base seed; sequence i uses a sub-stream derived from (seed, i).
    public var seed: UInt64 = 0

    public init(frames: Int = 32, size: Int = 256, frameTimeMs: Double = 66.7, kind: RunKind = .mixed, seed: UInt64 = 0) {
        self.frames = frames
        self.size = size
        self.frameTimeMs = frameTimeMs
        self.kind = kind
        self.seed = seed
    }
}
