import Foundation
import FluoroSupport

/// Where one clip comes from: a sequence, a start frame and a square crop.
public struct ClipPlan: Sendable, Equatable {
    /// Global sample index g.
    public var sample: Int
    /// Epoch g / E.
    public var epoch: Int
    /// Index of the sequence in the source, and its id.
    public var sequence: Int
    public var sequenceID: String
    /// First frame; the clip is frames start ..< start + T.
    public var start: Int
    /// Top-left corner and side of the square crop, in pixels of the full frame.
    public var cropX: Int
    public var cropY: Int
    public var cropSide: Int

    /// A plan made by hand (fixed clips for pictures); training draws plans from `ClipSampler`.
    public init(sample: Int, epoch: Int, sequence: Int, sequenceID: String, start: Int, cropX: Int, cropY: Int, cropSide: Int) {
        self.sample = sample; self.epoch = epoch; self.sequence = sequence; self.sequenceID = sequenceID
        self.start = start; self.cropX = cropX; self.cropY = cropY; self.cropSide = cropSide
    }
}

/// A sequence the sampler leaves out, and why.
public struct SkippedSequence: Sendable, Equatable {
    public var sequence: Int
    public var id: String
    public var frameCount: Int
}

/// The global sample stream: global sample g ↦ (sequence, start, crop, masks), a pure function
/// of (seed, g) and the dataset.
///
/// - Eligible sequences are those with at least T frames (and a non-empty frame); the others
///   are skipped and listed in `skipped`. E = `eligible.count`.
/// - Epoch e = g / E visits every eligible sequence exactly once, in the order of a seeded
///   Fisher–Yates permutation drawn from `SplitMix64.derived(from: seed, permutationSalt, e)`.
/// - Everything else about sample g comes from `SplitMix64.derived(from: seed, sampleSalt, g)`,
///   drawn in this order: the start frame (uniform in 0...frameCount-T), the scale (uniform in
///   [minimumScale, maximumScale)), the crop x then y (uniform over the positions that keep the crop inside
///   the frame), then the token mask (`TokenMask.draw`). The crop side is
///   round(scale * shorter side), at least 1. So a sample is the same whichever rank or thread
///   makes it.
///
/// Thread-safe: permutations are computed once per epoch and cached (the last few epochs).
public final class ClipSampler: @unchecked Sendable {
    /// Salt of the per-epoch permutation stream.
    public static let permutationSalt: UInt64 = 0x5045_524D  // "PERM"
    /// Salt of the per-sample stream.
    public static let sampleSalt: UInt64 = 0x5341_4D50  // "SAMP"

    public let spec: ClipSpec
    public let seed: UInt64
    /// Descriptions of all sequences of the source, by index.
    public let infos: [SequenceInfo]
    /// Source indices of the sequences with at least T frames, in source order.
    public let eligible: [Int]
    /// Sequences shorter than T (or empty), left out of every epoch.
    public let skipped: [SkippedSequence]

    private let lock = NSLock()
    private var permutations: [Int: [Int]] = [:]

    public init(source: ClipSource, spec: ClipSpec, seed: UInt64) throws {
        if let problem = spec.validationProblem() { throw ClipLoaderError.invalidSpec(problem) }
        self.spec = spec
        self.seed = seed
        var infos: [SequenceInfo] = [], eligible: [Int] = [], skipped: [SkippedSequence] = []
        for index in 0..<source.sequenceCount {
            let info = source.info(sequence: index)
            infos.append(info)
            if info.frameCount >= spec.frames && info.width > 0 && info.height > 0 {
                eligible.append(index)
            } else {
                skipped.append(SkippedSequence(sequence: index, id: info.id, frameCount: info.frameCount))
            }
        }
        if eligible.isEmpty {
            throw ClipLoaderError.noEligibleSequences(frames: spec.frames, sequences: infos.count, skipped: skipped.count)
        }
        self.infos = infos
        self.eligible = eligible
        self.skipped = skipped
    }

    /// Eligible sequences, E: the length of an epoch in samples.
    public var epochLength: Int { eligible.count }

    /// The order in which epoch `epoch` visits the eligible sequences (source indices).
    public func permutation(epoch: Int) -> [Int] {
        lock.lock()
        defer { lock.unlock() }
        if let cached = permutations[epoch] { return cached }
        var order = eligible
        var rng = SplitMix64.derived(from: seed, Self.permutationSalt, UInt64(epoch))
        if order.count > 1 {
            for i in stride(from: order.count - 1, to: 0, by: -1) {
                order.swapAt(i, uniformIndex(below: i + 1, using: &rng))
            }
        }
        if permutations.count >= 4, let oldest = permutations.keys.min() { permutations[oldest] = nil }
        permutations[epoch] = order
        return order
    }

    /// The plan of global sample `sample`, and the generator positioned to draw its mask.
    public func plan(sample: Int) -> (plan: ClipPlan, maskGenerator: SplitMix64) {
        let e = epochLength
        let epoch = sample / e
        let sequence = permutation(epoch: epoch)[sample % e]
        let info = infos[sequence]
        var rng = SplitMix64.derived(from: seed, Self.sampleSalt, UInt64(sample))
        let start = uniformIndex(below: info.frameCount - spec.frames + 1, using: &rng)
        let scale = spec.minimumScale + (spec.maximumScale - spec.minimumScale) * rng.nextUnit()
        let shorter = min(info.width, info.height)
        let side = min(shorter, max(1, roundHalfEven(scale * Double(shorter))))
        let x = uniformIndex(below: info.width - side + 1, using: &rng)
        let y = uniformIndex(below: info.height - side + 1, using: &rng)
        let plan = ClipPlan(sample: sample, epoch: epoch, sequence: sequence, sequenceID: info.id,
                            start: start, cropX: x, cropY: y, cropSide: side)
        return (plan, rng)
    }
}
