import Foundation

/// Where in a shard something went wrong: the file, the sequence (index in the dataset or shard,
/// and its id) and the stream ("header", "index", "footer", "pixels frame 7",
/// "layer vesselness frame 3", "annotations").
public struct ShardPlace: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var sequenceIndex: Int?
    public var sequenceId: String?
    public var stream: String

    public init(file: String, sequenceIndex: Int? = nil, sequenceId: String? = nil, stream: String) {
        self.file = file
        self.sequenceIndex = sequenceIndex
        self.sequenceId = sequenceId
        self.stream = stream
    }

    public var description: String {
        var parts = ["shard \(file)"]
        if let sequenceIndex { parts.append("sequence \(sequenceIndex)" + (sequenceId.map { " (id \($0))" } ?? "")) }
        parts.append("stream \(stream)")
        return parts.joined(separator: ", ")
    }
}

/// Errors of the shard format: each names the file, the sequence and the stream, and what to do.
public enum ShardError: Error, CustomStringConvertible, Equatable {
    /// The directory has no `manifest.json`.
    case manifestMissing(directory: String)
    /// `manifest.json` cannot be parsed or is inconsistent.
    case manifestInvalid(file: String, reason: String)
    /// A shard the manifest lists is missing.
    case shardMissing(file: String)
    /// A shard is shorter than the manifest (or its footer) says.
    case shardTruncated(file: String, expectedBytes: Int, actualBytes: Int)
    /// A shard ends early; `place` is where the cut falls (the sequence and stream, when known).
    case cut(ShardPlace, actualBytes: Int, expectedBytes: Int?)
    /// A header, footer or index is malformed or fails its checksum.
    case corruptStructure(ShardPlace, reason: String)
    /// A compressed stream fails to decode, or decodes to the wrong size.
    case corruptStream(ShardPlace, reason: String)
    /// The whole-file hash differs from the manifest's.
    case hashMismatch(file: String, expected: String, actual: String)
    /// A sequence given to the writer is inconsistent.
    case invalidSequence(String)
    /// A sequence index or frame range outside the data.
    case outOfRange(String)
    /// The caller's buffer has the wrong size.
    case bufferSize(expected: Int, got: Int)
    /// A system call failed.
    case io(file: String, operation: String, errno: Int32)
    /// A file-system operation failed (Foundation's reason).
    case fileSystem(file: String, reason: String)
    /// A layer producer returned the wrong number of bytes.
    case layerSize(ShardPlace, expected: Int, got: Int)

    public var description: String {
        switch self {
        case .manifestMissing(let directory):
            return "\(directory) has no manifest.json: it is not a shard dataset (write one with ShardDatasetWriter or `fluoro` ingest)"
        case let .manifestInvalid(file, reason):
            return "\(file): invalid manifest: \(reason). Run `fluoro verify` on the directory; re-pack the dataset if it cannot be repaired"
        case .shardMissing(let file):
            return "shard \(file) listed in the manifest is missing. Restore it or re-pack the dataset"
        case let .shardTruncated(file, expected, actual):
            return "shard \(file) is truncated: \(actual) bytes, expected \(expected). Run `fluoro verify`, then restore or re-pack the shard"
        case let .cut(place, actual, expected):
            let wanted = expected.map { ", expected \($0)" } ?? ""
            return "\(place): the shard is truncated (\(actual) bytes\(wanted)). Run `fluoro verify`, then restore or re-pack the shard"
        case let .corruptStructure(place, reason):
            return "\(place): \(reason). Run `fluoro verify`, then restore or re-pack the shard"
        case let .corruptStream(place, reason):
            return "\(place) is corrupt: \(reason). Run `fluoro verify`, then restore or re-pack the shard"
        case let .hashMismatch(file, expected, actual):
            return "shard \(file): file hash \(actual) differs from the manifest's \(expected). Run `fluoro verify` to find the damaged stream; restore or re-pack the shard"
        case .invalidSequence(let why):
            return "cannot store sequence: \(why)"
        case .outOfRange(let why):
            return why
        case let .bufferSize(expected, got):
            return "output buffer holds \(got) bytes, the frames need \(expected)"
        case let .io(file, operation, code):
            return "\(operation) \(file) failed: \(String(cString: strerror(code))) (errno \(code))"
        case let .fileSystem(file, reason):
            return "\(file): \(reason)"
        case let .layerSize(place, expected, got):
            return "\(place): the layer producer returned \(got) bytes, expected \(expected) ([frames, height, width] UInt8)"
        }
    }
}
