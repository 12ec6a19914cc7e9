import FluoroDistributed
import FluoroShards
import FluoroSupport
import Foundation

/// Identifies a shard dataset's content: its sequence count and a hash of its shards' hashes.
/// The data order depends on the set of sequences, so a resume must see the same dataset, and
/// every rank of a job must see the same one.
public struct DatasetFingerprint: Codable, Equatable, Sendable {
    public var sequences: Int
    /// XXH64 over the manifest's shard files and hashes, in order (16 hex digits).
    public var hash: String

    public init(_ manifest: DatasetManifest) {
        sequences = manifest.sequenceCount
        var hasher = XXHash64()
        for shard in manifest.shards { hasher.update(Data("\(shard.file):\(shard.xxh64);".utf8)) }
        hash = String(format: "%016llx", hasher.digest())
    }

    /// Throws on every rank unless all ranks opened the same dataset.
    func checkSame(across communicator: Communicator, shards: String) throws {
        guard communicator.size > 1 else { return }
        // Σv and Σv² give a zero variance only if all v agree; v < 2^20 keeps the sums exact in a Double.
        let v = Double(((UInt64(hash, radix: 16) ?? 0) ^ UInt64(sequences)) % 1_048_573)
        var sums = [v, v * v]
        try communicator.allReduceSum(&sums)
        let n = Double(communicator.size)
        let mean = sums[0] / n
        if abs(sums[1] / n - mean * mean) > 0.5 {
            throw TrainingError.noTrainableData(shards: shards, reason: "the ranks see different datasets (rank \(communicator.rank) has \(sequences) sequences, hash \(hash)); every rank must read the same shards (a shared filesystem, not a copy being written)")
        }
    }
}
