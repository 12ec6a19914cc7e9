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
        /// The validation loss after this step, when one was due.
        var validation: ValidationResult?
        var stepSeconds: Double { dataSeconds + computeSeconds + commSeconds }
    }

    /// This rank's loss terms (the mean over its micro-batches) and how long loading and computing took.
    struct LocalLosses {
        var total: Double, rec: Double, ves: Double
        var dataSeconds: Double, computeSeconds: Double
    }

    /// One optimisation step on every rank: this rank's gradients over its micro-batches, averaged
    /// over the ranks, the loss (and rank 0's votes) agreed, then the AdamW update (clipped, unless
    /// the gradient is not finite).
    func trainStep(_ s: TrainingSession) throws -> StepOutcome {
        s.watchdog.beat(step: s.step)
        let poison = try options.fault?.fire(rank: rank, step: s.step) ?? false
        let local = try accumulateGradients(s)
        if options.fault?.poisonsGradient(rank: rank, step: s.step) == true, let last = s.arena.views.last {
            s.arena.gradients.buffer[last.offset] = .nan
        }
        let t2 = Date()
        try averageGradients(s)
        var agreed = try agreeOnLosses(local, poison: poison, s)
        let t3 = Date()
        guard agreed.loss.isFinite else {
            throw TrainingError.nonFiniteLoss(step: s.step, loss: agreed.loss, lastCheckpoint: s.lastCheckpoint?.path)
        }
        let finite = try checkGradientsFinite(s)
        agreed.gradientNorm = finite ? applyUpdate(s, learningRate: agreed.learningRate) : nil
        agreed.skipped = !finite
        if options.fault?.divergesParameters(rank: rank, step: s.step) == true, let first = s.arena.views.first {
            s.arena.values.buffer[first.offset] += 1e-3
        }
        agreed.dataSeconds = local.dataSeconds
        agreed.commSeconds = t3.timeIntervalSince(t2)
        agreed.computeSeconds = local.computeSeconds + Date().timeIntervalSince(t3)
        return agreed
    }

    /// Loads `accumulationSteps` micro-batches in turn and sums their gradients into the arena
    /// (the first replaces what is there); the overlapped all-reduce, when on, starts during the
    /// last one's backward. Gradients: [arena] = Σ over micro-batches of ∂(micro-batch mean loss)/∂θ
    /// (divided by the count in `applyUpdate`).
    func accumulateGradients(_ s: TrainingSession) throws -> LocalLosses {
        let count = s.settings.accumulationSteps
        var sum = LocalLosses(total: 0, rec: 0, ves: 0, dataSeconds: 0, computeSeconds: 0)
        for micro in 0..<count {
            let t0 = Date()
            let batch = try s.loader.next()
            let t1 = Date()
            s.reducesDuringBackward = micro == count - 1
            let losses = try s.model.forwardBackward(clip: batch.clips, vessel: batch.vesselness, mask: batch.mask, accumulate: micro > 0)
            sum.total += Double(losses.total); sum.rec += Double(losses.rec); sum.ves += Double(losses.ves)
            sum.dataSeconds += t1.timeIntervalSince(t0)
            sum.computeSeconds += Date().timeIntervalSince(t1)
        }
        let n = Double(count)
        (sum.total, sum.rec, sum.ves) = (sum.total / n, sum.rec / n, sum.ves / n)
        return sum
    }

    /// Averages the loss terms over the ranks in one all-reduce, which also carries the
    /// coordinator's votes so every rank agrees on them: stop now (time limit), and checkpoint now
    /// (time-based cadence). The timings are left for the caller.
    func agreeOnLosses(_ local: LocalLosses, poison: Bool, _ s: TrainingSession) throws -> StepOutcome {
        let timeUp = isCoordinator && options.timeLimitMinutes.map { Date().timeIntervalSince(s.runStart) >= $0 * 60 } ?? false
        let checkpointDue = isCoordinator && s.settings.checkpointMinutes.map { Date().timeIntervalSince(s.lastCheckpointTime) >= $0 * 60 } ?? false
        var losses: [Double] = [poison ? .nan : local.total, local.rec, local.ves, timeUp ? 1 : 0, checkpointDue ? 1 : 0]
        try communicator.allReduceSum(&losses)
        let scale = 1 / Double(communicator.size)
        return StepOutcome(loss: Float(losses[0] * scale), rec: Float(losses[1] * scale), ves: Float(losses[2] * scale),
                           learningRate: s.schedule.rate(at: s.step), gradientNorm: nil, dataSeconds: 0, computeSeconds: 0,
                           commSeconds: 0, timeUp: losses[3] > 0, checkpointDue: losses[4] > 0)
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

    /// The AdamW update with the step's learning rate, the gradients divided by the micro-batch
    /// count as they are read (and times the clipping coefficient, if clipping); returns the
    /// gradient norm (of the mean over micro-batches) when clipping computed it.
    func applyUpdate(_ s: TrainingSession, learningRate: Double) -> Float? {
        let arena = s.arena
        let perMicroBatch = 1 / Float(s.settings.accumulationSteps)
        var gradientScale = perMicroBatch, norm: Float?
        if let maxNorm = s.settings.clipGradientNorm {
            let global = Gradients.globalNorm(UnsafeBufferPointer(arena.gradients.buffer), threads: options.threads) * perMicroBatch
            gradientScale = Gradients.clipCoefficient(norm: global, maxNorm: maxNorm) * perMicroBatch
            norm = global
        }
        s.optimizer.step(parameters: arena.values.buffer, gradients: UnsafeBufferPointer(arena.gradients.buffer),
                         decayRanges: s.decayRanges, learningRate: Float(learningRate), gradientScale: gradientScale)
        return norm
    }
}
