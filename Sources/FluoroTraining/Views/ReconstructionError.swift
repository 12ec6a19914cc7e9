/// Why a reconstruction panel cannot be made, naming the dataset or sequence and what to do.
public enum ReconstructionError: Error, CustomStringConvertible, Equatable {
    case noClip(shards: String, frames: Int)
    case sequenceOutOfRange(sequence: Int, count: Int)
    case sequenceTooShort(sequence: Int, id: String, frames: Int, needed: Int)

    public var description: String {
        switch self {
        case let .noClip(shards, frames):
            return "no sequence of \(shards) has the \(frames) frames a clip needs; use a dataset with longer runs"
        case let .sequenceOutOfRange(sequence, count):
            return "--sequence \(sequence) is out of range: the dataset has \(count) sequences (0..<\(count))"
        case let .sequenceTooShort(sequence, id, frames, needed):
            return "sequence \(sequence) (\(id)) has \(frames) frames, fewer than the \(needed) of a clip; pick another --sequence"
        }
    }
}
