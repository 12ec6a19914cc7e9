import Foundation

/// What can stop the clip loader, with the sequence and global sample concerned and what to do.
public enum ClipLoaderError: Error, CustomStringConvertible, Equatable {
    /// The clip spec is inconsistent (e.g. S not a multiple of p).
    case invalidSpec(String)
    /// Rank, rank count, batch size, worker count or prefetch depth out of range.
    case invalidConfiguration(String)
    /// No sequence has at least T frames.
    case noEligibleSequences(frames: Int, sequences: Int, skipped: Int)
    /// A sequence lacks the vesselness layer and the loader requires it.
    case missingVesselness(sequenceID: String, sample: Int)
    /// The source returned a buffer of the wrong size.
    case badFrameData(sequenceID: String, sample: Int, what: String, expectedBytes: Int, actualBytes: Int)
    /// A sequence's description cannot be sampled (bit depth, shape).
    case unsupportedSequence(sequenceID: String, sample: Int, reason: String)
    /// The source threw while reading a sequence.
    case sourceFailed(sequenceID: String, sample: Int, underlying: String)
    /// The loader was closed; make a new one from its cursor.
    case closed

    public var description: String {
        switch self {
        case .invalidSpec(let problem):
            return "clip spec: \(problem); fix the model config's frames/size/tubelet/patch/mask settings"
        case .invalidConfiguration(let problem):
            return "clip loader: \(problem)"
        case let .noEligibleSequences(frames, sequences, skipped):
            return "clip loader: none of \(sequences) sequences has at least T=\(frames) frames (\(skipped) skipped); add longer runs or lower the clip frames"
        case let .missingVesselness(id, sample):
            return "sequence \(id) (global sample \(sample)) has no vesselness layer: add weak labels with the vesselness step before pretraining, or configure the loader with requireVesselness: false to train on zero maps"
        case let .badFrameData(id, sample, what, expected, actual):
            return "sequence \(id) (global sample \(sample)): \(what) has \(actual) bytes, expected \(expected); the shard or source is damaged, re-ingest this sequence"
        case let .unsupportedSequence(id, sample, reason):
            return "sequence \(id) (global sample \(sample)): \(reason)"
        case let .sourceFailed(id, sample, underlying):
            return "sequence \(id) (global sample \(sample)): reading failed: \(underlying)"
        case .closed:
            return "clip loader: closed; make a new loader from its cursor to continue"
        }
    }
}
