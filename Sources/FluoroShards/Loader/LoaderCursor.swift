import Foundation

/// The clip loader's whole state: a seed and one position in the global sample stream.
///
/// Global sample g is fully determined by (seed, g) and the dataset (see `ClipSampler`), so a
/// run resumes mid-epoch exactly by storing this cursor in its checkpoint. The cursor does not
/// depend on the number of ranks: rank r of N with per-rank batch b takes samples
/// `nextSample + r*b ..< nextSample + (r+1)*b` of each step, and every rank advances the cursor by
/// the global batch N*b. Resuming with a different N (same N*b) neither repeats nor skips a
/// sample; with a different N*b the stream simply continues from `nextSample`.
public struct LoaderCursor: Codable, Sendable, Hashable {
    /// Seed of the sample stream (data order, crops and masks).
    public var seed: UInt64
    /// Global index of the first sample of the next step.
    public var nextSample: Int

    public init(seed: UInt64, nextSample: Int = 0) {
        self.seed = seed
        self.nextSample = nextSample
    }

    /// Epoch of the next sample, given E eligible sequences.
    public func epoch(eligibleSequences: Int) -> Int {
        eligibleSequences > 0 ? nextSample / eligibleSequences : 0
    }

    /// The cursor after `steps` steps of `globalBatch` samples.
    public func advanced(steps: Int, globalBatch: Int) -> LoaderCursor {
        LoaderCursor(seed: seed, nextSample: nextSample + steps * globalBatch)
    }
}
