import Foundation
import FluoroSupport

/// One rank's batch of B clips, ready for the model.
public struct ClipBatch: Sendable, Equatable {
    /// The clip shape and masks these tensors follow.
    public var spec: ClipSpec
    /// Clips in the batch, B.
    public var count: Int
    /// Standardised pixels. clips: [B, T, S, S]
    public var clips: [Float]
    /// Weak vesselness labels in [0, 1], aligned with `clips`. vesselness: [B, T, S, S]
    public var vesselness: [Float]
    /// Token masks, 1 = hidden, token n = (t' * Hp + h') * Wp + w'. mask: [B, N]
    public var mask: [UInt8]
    /// Where each clip came from (global sample index, sequence, start frame, crop). plans: [B]
    public var plans: [ClipPlan]
    /// True for clips whose sequence has no vesselness layer (their vesselness is all zeros;
    /// only possible with `requireVesselness: false`). [B]
    public var vesselnessMissing: [Bool]

    /// Global sample indices of the clips. [B]
    public var samples: [Int] { plans.map(\.sample) }

    /// An empty batch of `count` clips.
    init(spec: ClipSpec, count: Int) {
        self.spec = spec
        self.count = count
        clips = [Float](repeating: 0, count: count * spec.pixelsPerClip)
        vesselness = [Float](repeating: 0, count: count * spec.pixelsPerClip)
        mask = [UInt8](repeating: 0, count: count * spec.tokenCount)
        plans = []
        vesselnessMissing = []
    }

    /// Builds the clips of global samples `samples` (one after another on this thread; each clip
    /// depends only on its sample index, so the result does not depend on who builds it).
    static func make(samples: Range<Int>, sampler: ClipSampler, source: ClipSource,
                     requireVesselness: Bool) throws -> ClipBatch {
        let spec = sampler.spec
        var batch = ClipBatch(spec: spec, count: samples.count)
        let pixels = spec.pixelsPerClip, tokens = spec.tokenCount
        for (b, sample) in samples.enumerated() {
            let (plan, generator) = sampler.plan(sample: sample)
            var rng = generator
            let present = try batch.clips.withUnsafeMutableBufferPointer { clips in
                try batch.vesselness.withUnsafeMutableBufferPointer { ves in
                    try ClipTransform.fill(
                        plan: plan, info: sampler.infos[plan.sequence], source: source, spec: spec,
                        requireVesselness: requireVesselness,
                        pixels: UnsafeMutableBufferPointer(rebasing: clips[(b * pixels)..<((b + 1) * pixels)]),
                        vesselness: UnsafeMutableBufferPointer(rebasing: ves[(b * pixels)..<((b + 1) * pixels)]))
                }
            }
            batch.mask.withUnsafeMutableBufferPointer { mask in
                TokenMask.draw(spec: spec, using: &rng,
                               into: UnsafeMutableBufferPointer(rebasing: mask[(b * tokens)..<((b + 1) * tokens)]))
            }
            batch.plans.append(plan)
            batch.vesselnessMissing.append(!present)
        }
        return batch
    }
}
