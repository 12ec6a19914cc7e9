import FluoroSupport
import Foundation

extension Pretrainer {
    /// Every rank must start from the same point: the same checkpoint (its step and content hash)
    /// or, all of them, none. A rank with a stale or damaged view of the run directory would
    /// otherwise resume an older step and train a diverging replica.
    func agreeOnStart(_ checkpoint: Checkpoint?) throws {
        var words: [UInt64] = [UInt64.max, 0]  // no checkpoint
        if let checkpoint { words = [UInt64(checkpoint.step), try Self.contentHash(checkpoint)] }
        guard let disagreement = try ReplicaAgreement.check(words, across: communicator) else { return }
        let views = disagreement.words.enumerated().map { rank, w in
            "rank \(rank): " + (w[0] == UInt64.max ? "no checkpoint" : "step \(w[0]), content \(String(format: "%016llx", w[1]))")
        }
        // Rank 0's step, so every rank reports the same error (whichever prints first).
        let reference = disagreement.words[0][0]
        throw TrainingError.replicasDiffer(step: reference == UInt64.max ? 0 : Int(reference), what: "on the checkpoint to start from",
                                           ranks: disagreement.ranks, detail: views.joined(separator: "; "))
    }

    /// The checkpoint's content hash: XXH64 over its verified marker's tensor and state hashes.
    static func contentHash(_ checkpoint: Checkpoint) throws -> UInt64 {
        let marker = try Data(contentsOf: checkpoint.directory.appendingPathComponent("COMPLETE"))
        let fields = (try JSONSerialization.jsonObject(with: marker) as? [String: Any]) ?? [:]
        let text = "\(fields["tensors_xxh64"] ?? "-"):\(fields["state_xxh64"] ?? "-")"
        return XXHash64.hash(Data(text.utf8))
    }

    /// Throws, naming the step and the ranks, unless every rank's parameters are bit-identical
    /// (XXH64 of the whole arena, compared across ranks).
    func checkParametersAgree(_ s: TrainingSession) throws {
        let hash = XXHash64.hash(UnsafeRawBufferPointer(s.arena.values.buffer))
        guard let disagreement = try ReplicaAgreement.check([UInt64(s.step), hash], across: communicator) else { return }
        let views = disagreement.words.enumerated().map { "rank \($0): \(String(format: "%016llx", $1[1]))" }
        throw TrainingError.replicasDiffer(step: s.step, what: "on the parameters", ranks: disagreement.ranks,
                                           detail: "parameter hashes " + views.joined(separator: ", "))
    }

    /// With `checkReplicasEvery` K, compares the replicas' parameters after every K-th step.
    func checkReplicasIfDue(_ s: TrainingSession) throws {
        guard let every = options.checkReplicasEvery, s.step % every == 0 else { return }
        try checkParametersAgree(s)
    }
}
