import FluoroDistributed
import FluoroShards
import FluoroSupport
import Foundation

extension Pretrainer {
    /// What one step measured, and the coordinator's votes every rank received with the losses.
    struct StepOutcome {
        var loss: Float, rec: Float, ves: Float
        var learningRate: Double
        /// The global gradient norm before clipping (computed only when clipping is on).
        var gradientNorm: Float?
        var dataSeconds: Double, computeSeconds: Double, commSeconds: Double
        /// Rank 0 says: the time limit is reached (stop now).
        var timeUp: Bool
        /// Rank 0 says: a time-based checkpoint is due.
        var checkpointDue: Bool
        /// The gradients were not finite and the update was skipped (`skipNonFiniteGradients`).
        var skipped = false
        var stepSeconds: Double { dataSeconds + computeSeconds + commSeconds }
    }

    /// One optimisation step on every rank: load a batch, forward and backward, average the
    /// gradients, agree on the loss (and rank 0's votes), clip, and update with AdamW.
    func trainStep(_ s: TrainingSession) throws -> StepOutcome {
        s.watchdog.beat(step: s.step)
        let poison = try options.fault?.fire(rank: rank, step: s.step) ?? false
        let t0 = Date()
        let batch = try s.loader.next()
        let t1 = Date()
        let local = try s.model.forwardBackward(clip: batch.clips, vessel: batch.vesselness, mask: batch.mask)
        if options.fault?.poisonsGradient(rank: rank, step: s.step) == true, let last = s.arena.views.last {
            s.arena.gradients.buffer[last.offset] = .nan
        }
        let t2 = Date()
        try averageGradients(s)
        // The coordinator's votes ride along with the losses, so every rank agrees on them:
        // stop now (time limit), and checkpoint now (time-based cadence).
        let timeUp = isCoordinator && options.timeLimitMinutes.map { Date().timeIntervalSince(s.runStart) >= $0 * 60 } ?? false
        let checkpointDue = isCoordinator && s.settings.checkpointMinutes.map { Date().timeIntervalSince(s.lastCheckpointTime) >= $0 * 60 } ?? false
        var losses: [Double] = [poison ? .nan : Double(local.total), Double(local.rec), Double(local.ves),
                                timeUp ? 1 : 0, checkpointDue ? 1 : 0]
        try communicator.allReduceSum(&losses)
        let t3 = Date()
        let scale = 1 / Double(communicator.size)
        let (loss, rec, ves) = (Float(losses[0] * scale), Float(losses[1] * scale), Float(losses[2] * scale))
        guard loss.isFinite else {
            throw TrainingError.nonFiniteLoss(step: s.step, loss: loss, lastCheckpoint: s.lastCheckpoint?.path)
        }
        let lr = s.schedule.rate(at: s.step)
        let finite = try checkGradientsFinite(s)
        let norm = finite ? applyUpdate(s, learningRate: lr) : nil
        if options.fault?.divergesParameters(rank: rank, step: s.step) == true, let first = s.arena.views.first {
            s.arena.values.buffer[first.offset] += 1e-3
        }
        let t4 = Date()
        return StepOutcome(loss: loss, rec: rec, ves: ves, learningRate: lr, gradientNorm: norm, dataSeconds: t1.timeIntervalSince(t0),
                           computeSeconds: t2.timeIntervalSince(t1) + t4.timeIntervalSince(t3),
                           commSeconds: t3.timeIntervalSince(t2), timeUp: losses[3] > 0, checkpointDue: losses[4] > 0,
                           skipped: !finite)
    }

    /// True when the averaged gradients are all finite. Otherwise (the same on every rank, since
    /// they are averaged) throws naming the step and the first bad tensor, or, with
    /// `skipNonFiniteGradients`, logs it and returns false so the step makes no update.
    func checkGradientsFinite(_ s: TrainingSession) throws -> Bool {
        let g = UnsafeBufferPointer(s.arena.gradients.buffer)
        if Gradients.allFinite(g, threads: options.threads) { return true }
        let index = Gradients.firstNonFinite(g) ?? 0
        let tensor = s.arena.views.first { $0.offset <= index && index < $0.offset + $0.count }?.name ?? "arena offset \(index)"
        guard options.skipNonFiniteGradients else {
            throw TrainingError.nonFiniteGradient(step: s.step, tensor: tensor, lastCheckpoint: s.lastCheckpoint?.path)
        }
        if isCoordinator { Log.error("step \(s.step): the averaged gradient of \(tensor) is NaN or infinite; skipping the update (--skip-nonfinite)") }
        return false
    }

    /// Averages the gradients over the ranks (finishing the overlapped buckets, or all at once).
    func averageGradients(_ s: TrainingSession) throws {
        if s.model.gradientsReady != nil {
            if let failure = s.overlapFailure { throw failure }
            try s.reducer.finish()
        } else {
            try s.reducer.averageAll()
        }
    }

    /// The AdamW update with the step's learning rate (and the clipping coefficient, if clipping);
    /// returns the gradient norm when clipping computed it.
    func applyUpdate(_ s: TrainingSession, learningRate: Double) -> Float? {
        let arena = s.arena
        var gradientScale: Float = 1, norm: Float?
        if let maxNorm = s.settings.clipGradientNorm {
            let global = Gradients.globalNorm(UnsafeBufferPointer(arena.gradients.buffer), threads: options.threads)
            gradientScale = Gradients.clipCoefficient(norm: global, maxNorm: maxNorm)
            norm = global
        }
        s.optimizer.step(parameters: arena.values.buffer, gradients: UnsafeBufferPointer(arena.gradients.buffer),
                         decayRanges: s.decayRanges, learningRate: Float(learningRate), gradientScale: gradientScale)
        return norm
    }
}
