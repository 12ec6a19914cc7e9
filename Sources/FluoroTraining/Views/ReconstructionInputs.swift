import FluoroShards
import FluoroSupport
import Foundation

/// The fixed clips a reconstruction panel shows: the first frames of the first sequences long
/// enough for a clip (or the sequences asked for), the largest centred square crop, and masks
/// drawn from a fixed seed — the same clips and masks at every step of every run on a dataset.
public struct ReconstructionInputs {
    /// The seed of the panel masks ("VIEW").
    public static let maskSeed: UInt64 = 0x5649_4557
    /// The clip geometry and masking.
    public let spec: ClipSpec
    /// The sequences shown, by id.
    public let sequenceIDs: [String]
    /// Standardised pixels [K, T, S, S] and vesselness [K, T, S, S] in 0...1 (zeros when a sequence has none).
    public let clips: [Float]
    public let vesselness: [Float]
    /// [K, N], 1 = hidden from the encoder.
    public let mask: [UInt8]

    /// Clips shown.
    public var count: Int { sequenceIDs.count }

    /// Loads `count` clips from the first sequences with enough frames, or exactly `sequences`.
    public init(source: ClipSource, spec: ClipSpec, sequences: [Int]? = nil, count: Int = 3, name: String = "the dataset") throws {
        let chosen = try sequences.map { try Self.check($0, source: source, spec: spec) }
            ?? Array((0..<source.sequenceCount).filter { source.info(sequence: $0).frameCount >= spec.frames }.prefix(count))
        guard !chosen.isEmpty else { throw ReconstructionError.noClip(shards: name, frames: spec.frames) }
        let P = spec.pixelsPerClip, N = spec.tokenCount
        var clips = [Float](repeating: 0, count: chosen.count * P), vessel = clips
        var mask = [UInt8](repeating: 0, count: chosen.count * N)
        for (k, sequence) in chosen.enumerated() {
            let info = source.info(sequence: sequence)
            let side = min(info.width, info.height)
            let plan = ClipPlan(sample: k, epoch: 0, sequence: sequence, sequenceID: info.id, start: 0,
                                cropX: (info.width - side) / 2, cropY: (info.height - side) / 2, cropSide: side)
            try clips.withUnsafeMutableBufferPointer { c in
                try vessel.withUnsafeMutableBufferPointer { v in
                    _ = try ClipTransform.fill(plan: plan, info: info, source: source, spec: spec, requireVesselness: false,
                                               pixels: .init(rebasing: c[(k * P)..<((k + 1) * P)]),
                                               vesselness: .init(rebasing: v[(k * P)..<((k + 1) * P)]))
                }
            }
            var rng = SplitMix64(seed: Self.maskSeed &+ UInt64(k))
            mask.replaceSubrange((k * N)..<((k + 1) * N), with: TokenMask.draw(spec: spec, using: &rng))
        }
        self.spec = spec
        sequenceIDs = chosen.map { source.info(sequence: $0).id }
        self.clips = clips
        self.vesselness = vessel
        self.mask = mask
    }

    /// `sequence` when it exists and is long enough for a clip.
    static func check(_ sequences: [Int], source: ClipSource, spec: ClipSpec) throws -> [Int] {
        try sequences.map { sequence in
            guard sequence >= 0 && sequence < source.sequenceCount else {
                throw ReconstructionError.sequenceOutOfRange(sequence: sequence, count: source.sequenceCount)
            }
            let info = source.info(sequence: sequence)
            guard info.frameCount >= spec.frames else {
                throw ReconstructionError.sequenceTooShort(sequence: sequence, id: info.id, frames: info.frameCount, needed: spec.frames)
            }
            return sequence
        }
    }
}
