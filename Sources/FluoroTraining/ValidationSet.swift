import FluoroDistributed
import FluoroModel
import FluoroShards
import FluoroSupport
import FluoroTensor
import Foundation

/// The validation loss of a run (the curve to watch for overfitting): the mean FIMAE-SC loss
/// over a fixed set of clips from held-out shards, with the training model's parameters as they
/// are. The clips are global samples 0..<count of the sample stream of `seed` — a seed of its
/// own, not the run's — so crops, start frames and masks are the same at every evaluation, in
/// every run and after every resume. Each rank evaluates clips rank, rank + ranks, … one at a
/// time (batch 1: a clip's loss does not depend on the batch it shares), and the sums are added
/// over the ranks, so the value depends only on the parameters.
public final class ValidationSet {
    /// The seed of the validation clips ("VALI"), independent of the run's seed.
    public static let seed: UInt64 = 0x5641_4C49
    /// Clips over all ranks.
    public let count: Int
    /// This rank's clips, one per batch: clips and vesselness [1, T, S, S], mask [1, N].
    let clips: [ClipBatch]
    /// A batch-1 model over the training arena (no copy of the parameters).
    let model: FIMAESC

    /// Loads this rank's share of `count` clips from `source` for a model of `config` whose
    /// parameters are `parameters` (the training model's arena).
    public init(source: ShardDataset, config: ModelConfig, parameters: ParameterArena, count: Int, rank: Int, ranks: Int,
                requireVesselness: Bool) throws {
        let loader = try ClipLoader(source: source, spec: config.clipSpec, cursor: LoaderCursor(seed: Self.seed), rank: rank,
                                    ranks: ranks, batchPerRank: 1,
                                    options: LoaderOptions(workers: 0, prefetchDepth: 1, requireVesselness: requireVesselness))
        defer { loader.close() }
        var clips: [ClipBatch] = []
        for sample in stride(from: rank, to: count, by: ranks) {
            let batch = try loader.next()
            precondition(batch.samples == [sample], "validation clips out of order")
            clips.append(batch)
        }
        self.count = count
        self.clips = clips
        model = FIMAESC(config: config, batch: 1, sharing: parameters)
    }

    /// The mean loss terms over all clips (every rank takes part and gets the same value).
    public func evaluate(communicator: Communicator) throws -> FIMAESC.LossTerms {
        var sums = [0.0, 0.0, 0.0]  // total, rec, ves over this rank's clips
        for clip in clips {
            let losses = try model.forward(clip: clip.clips, vessel: clip.vesselness, mask: clip.mask)
            sums[0] += Double(losses.total); sums[1] += Double(losses.rec); sums[2] += Double(losses.ves)
        }
        try communicator.allReduceSum(&sums)
        let n = Double(count)
        return (Float(sums[0] / n), Float(sums[1] / n), Float(sums[2] / n))
    }
}
