import Foundation

/// Where the loader reads runs from: a shard dataset on disk, or sequences in memory.
/// Implementations must allow concurrent reads from several threads.
public protocol ClipSource: AnyObject, Sendable {
    /// Sequences available.
    var sequenceCount: Int { get }
    /// The description of sequence `index`.
    func info(sequence index: Int) -> SequenceInfo
    /// Raw pixels of frames `range` of a sequence: [range.count, H, W] as stored (UInt8 or UInt16 LE).
    func frames(sequence index: Int, range: Range<Int>) throws -> Data
    /// A layer's bytes for frames `range` ([range.count, H, W] UInt8), or nil if the sequence lacks it.
    func layer(_ kind: LayerKind, sequence index: Int, range: Range<Int>) throws -> Data?
}

/// Sequences held in memory (the simulator's output, or tests).
public final class InMemoryClipSource: ClipSource, @unchecked Sendable {
    /// The sequences, never mutated after init.
    public let sequences: [FrameSequence]

    public init(_ sequences: [FrameSequence]) { self.sequences = sequences }

    public var sequenceCount: Int { sequences.count }

    public func info(sequence index: Int) -> SequenceInfo { sequences[index].info }

    public func frames(sequence index: Int, range: Range<Int>) throws -> Data {
        let s = sequences[index]
        let bytes = s.info.frameBytes
        return s.pixels.subdata(in: (s.pixels.startIndex + range.lowerBound * bytes)..<(s.pixels.startIndex + range.upperBound * bytes))
    }

    public func layer(_ kind: LayerKind, sequence index: Int, range: Range<Int>) throws -> Data? {
        let s = sequences[index]
        guard let data = s.layers[kind] else { return nil }
        let bytes = s.info.width * s.info.height
        return data.subdata(in: (data.startIndex + range.lowerBound * bytes)..<(data.startIndex + range.upperBound * bytes))
    }
}
