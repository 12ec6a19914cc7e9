import Foundation

/// Why a pretraining run stopped, with the step, the rank and what to do.
public enum TrainingError: Error, CustomStringConvertible {
    case nonFiniteLoss(step: Int, loss: Float, lastCheckpoint: String?)
    case nonFiniteGradient(step: Int, tensor: String, lastCheckpoint: String?)
    case runDirectoryInUse(run: String, latestStep: Int)
    case incompatibleResume(run: String, reason: String)
    case noTrainableData(shards: String, reason: String)
    case checkpointFailed(step: Int, reason: String, lastCheckpoint: String?)
    case replicasDiffer(step: Int, what: String, ranks: [Int], detail: String)

    public var description: String {
        switch self {
        case let .nonFiniteLoss(step, loss, last):
            let resume = last.map { "the last good checkpoint is \($0); resume from it with --resume \($0) (perhaps with a lower learning rate)" }
                ?? "no checkpoint was written yet; lower the learning rate or check the data"
            return "the loss became \(loss) at step \(step); stopping. \(resume)"
        case let .nonFiniteGradient(step, tensor, last):
            let resume = last.map { "resume from \($0) with --resume \($0) (perhaps with a lower learning rate or --clip-grad)" }
                ?? "no checkpoint was written yet; lower the learning rate or check the data"
            return "the averaged gradient of \(tensor) is NaN or infinite at step \(step) although the loss is finite; stopping before the update. "
                + "\(resume), or pass --skip-nonfinite to skip such steps"
        case let .runDirectoryInUse(run, step):
            return "\(run) already holds checkpoints (latest: step \(step)); pass --resume to continue that run, or choose a new --run directory"
        case let .incompatibleResume(run, reason):
            return "cannot resume \(run): \(reason)"
        case let .noTrainableData(shards, reason):
            return "no clips can be drawn from \(shards): \(reason)"
        case let .checkpointFailed(step, reason, last):
            let kept = last.map { "the last complete checkpoint, \($0), is intact: free space and continue with --resume latest" }
                ?? "no checkpoint was written before it: free space and start again"
            return "the final checkpoint at step \(step) could not be written: \(reason); \(kept)"
        case let .replicasDiffer(step, what, ranks, detail):
            let who = ranks.map(String.init).joined(separator: ", ")
            return "the replicas disagree \(what) at step \(step): rank\(ranks.count == 1 ? "" : "s") \(who) differ\(ranks.count == 1 ? "s" : "") from rank 0 (\(detail)); stopping. "
                + "Every rank must see the same run directory (a shared filesystem, not a copy); restart the whole job with --resume latest"
        }
    }
}
