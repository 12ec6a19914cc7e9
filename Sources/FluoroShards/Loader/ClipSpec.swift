import Foundation

/// The shape of a clip and of its token mask (METHOD §2–§4): what the loader needs from the
/// model config. FluoroShards cannot import FluoroModel, so the trainer copies these numbers
/// from `ModelConfig` into a `ClipSpec`.
public struct ClipSpec: Codable, Sendable, Equatable {
    /// Frames per clip, T.
    public var frames: Int
    /// Side of the square clip in pixels, S.
    public var size: Int
    /// Frames per tubelet, tt.
    public var tubelet: Int
    /// Side of a patch in pixels, p.
    public var patch: Int
    /// Fraction of the cells of a slot the tube mask hides (METHOD §4: 0.75).
    public var tubeRatio: Double
    /// Fraction of the cells of a frame-masked slot that are hidden (METHOD §4: 0.98).
    public var frameRatio: Double
    /// Slots that are frame-masked instead of tube-masked, F (METHOD §4: 2 of 8).
    public var frameMaskedSlots: Int
    /// Smallest crop side as a fraction of the frame's shorter side (METHOD §2: 0.66).
    public var minimumScale: Double
    /// Largest crop side as a fraction of the shorter side (METHOD §2: 1). Scales are uniform in
    /// [minimumScale, maximumScale); equal bounds give one scale.
    public var maximumScale: Double = 1

    public init(frames: Int = 16, size: Int = 224, tubelet: Int = 2, patch: Int = 16,
                tubeRatio: Double = 0.75, frameRatio: Double = 0.98, frameMaskedSlots: Int = 2,
                minimumScale: Double = 0.66) {
        self.frames = frames
        self.size = size
        self.tubelet = tubelet
        self.patch = patch
        self.tubeRatio = tubeRatio
        self.frameRatio = frameRatio
        self.frameMaskedSlots = frameMaskedSlots
        self.minimumScale = minimumScale
    }

    /// The CPU benchmark's clips: T=16, S=128, 2x16x16 tubelets, METHOD §4 masks.
    public static let bench = ClipSpec(size: 128)

    /// Temporal slots, T/tt.
    public var slots: Int { frames / tubelet }
    /// Patches along one side, S/p.
    public var patchesPerSide: Int { size / patch }
    /// Spatial cells per slot, C = (S/p)^2.
    public var cellsPerSlot: Int { patchesPerSide * patchesPerSide }
    /// Tokens per clip, N = (T/tt) * (S/p)^2.
    public var tokenCount: Int { slots * cellsPerSlot }
    /// Cells the tube mask hides in a slot: round(tubeRatio * C), ties to even like Python's round().
    public var tubeHiddenCells: Int { roundHalfEven(tubeRatio * Double(cellsPerSlot)) }
    /// Cells hidden in a frame-masked slot: round(frameRatio * C), ties to even.
    public var frameHiddenCells: Int { roundHalfEven(frameRatio * Double(cellsPerSlot)) }
    /// Hidden tokens per clip; the same for every clip.
    public var hiddenTokens: Int {
        (slots - frameMaskedSlots) * tubeHiddenCells + frameMaskedSlots * frameHiddenCells
    }
    /// Pixels of one clip, T*S*S.
    public var pixelsPerClip: Int { frames * size * size }

    /// A description of the first inconsistency, or nil when the spec is usable.
    public func validationProblem() -> String? {
        if frames < 1 || size < 1 || tubelet < 1 || patch < 1 {
            return "frames, size, tubelet and patch must be positive (got T=\(frames) S=\(size) tt=\(tubelet) p=\(patch))"
        }
        if frames % tubelet != 0 { return "frames T=\(frames) is not a multiple of the tubelet tt=\(tubelet)" }
        if size % patch != 0 { return "size S=\(size) is not a multiple of the patch p=\(patch)" }
        if !(0...1).contains(tubeRatio) || !(0...1).contains(frameRatio) {
            return "mask ratios must be in [0, 1] (tube \(tubeRatio), frame \(frameRatio))"
        }
        if frameMaskedSlots < 0 || frameMaskedSlots > slots {
            return "frameMaskedSlots \(frameMaskedSlots) is outside 0...\(slots) (the slot count T/tt)"
        }
        if !(minimumScale > 0 && minimumScale <= 1) { return "minimumScale \(minimumScale) is outside (0, 1]" }
        if !(maximumScale >= minimumScale && maximumScale <= 1) {
            return "maximumScale \(maximumScale) is outside [minimumScale \(minimumScale), 1]"
        }
        return nil
    }
}

/// Rounds to the nearest integer, ties to even, as Python's `round()` does.
@inline(__always)
func roundHalfEven(_ x: Double) -> Int { Int(x.rounded(.toNearestOrEven)) }
