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

    /// Throws on every rank unless all ranks opened the same dataset: the full 64-bit hash and the
    /// sequence count are compared, byte by byte, through one all-reduce (`agree(sums:ranks:)`).
    func checkSame(across communicator: Communicator, shards: String) throws {
        guard communicator.size > 1 else { return }
        let v = bytes
        var sums = v + v.map { $0 * $0 }
        try communicator.allReduceSum(&sums)
        if !Self.agree(sums: sums, ranks: communicator.size) {
            throw TrainingError.noTrainableData(shards: shards, reason: "the ranks see different datasets (rank \(communicator.rank) has \(sequences) sequences, hash \(hash)); every rank must read the same shards (a shared filesystem, not a copy being written)")
        }
    }

    /// The hash's 8 bytes and the sequence count's 8 bytes, each as a Double in 0...255.
    var bytes: [Double] {
        let h = UInt64(hash, radix: 16) ?? 0, n = UInt64(truncatingIfNeeded: sequences)
        return (0..<8).map { Double((h >> (8 * $0)) & 0xFF) } + (0..<8).map { Double((n >> (8 * $0)) & 0xFF) }
    }

    /// Given Σv then Σv² over the ranks for each byte v, true when every rank has the same bytes:
    /// n·Σv² = (Σv)² exactly when all v agree (Cauchy–Schwarz), and with v ≤ 255 both sides are
    /// exact integers in a Double for up to 2^18 ranks.
    static func agree(sums: [Double], ranks: Int) -> Bool {
        let k = sums.count / 2, n = Double(ranks)
        return (0..<k).allSatisfy { n * sums[k + $0] == sums[$0] * sums[$0] }
    }
}
