import FluoroSupport
import FluoroTensor
import FluoroTraining
import Foundation

extension Finetuner {
    /// One optimisation step: this rank's slice of the global batch, averaged gradients, AdamW.
    func trainStep(_ s: FinetuneSession) throws {
        s.watchdog.beat(step: s.step)
        let t0 = Date()
        let first = s.step * s.settings.globalBatch + rank * s.settings.batchPerRank
        let local = try s.target.step(first: first, count: s.settings.batchPerRank, seed: s.settings.seed,
                                     progress: Double(s.step) / Double(max(1, s.settings.steps)))
        try s.reducer.averageAll()
        var losses = [Double(local.total), Double(local.heatmap), Double(local.catheter)]
        try communicator.allReduceSum(&losses)
        let scale = 1 / Double(communicator.size)
        let loss = TrackingLoss(total: Float(losses[0] * scale), heatmap: Float(losses[1] * scale), catheter: Float(losses[2] * scale))
        guard loss.total.isFinite else {
            throw TrainingError.nonFiniteLoss(step: s.step, loss: loss.total, lastCheckpoint: s.lastCheckpoint?.path)
        }
        let lr = s.settings.schedule.rate(at: s.step)
        let gradientNorm = update(s, learningRate: lr)
        s.step += 1
        let seconds = Date().timeIntervalSince(t0)
        s.computeSeconds += seconds
        try record(loss, learningRate: lr, gradientNorm: gradientNorm, seconds: seconds, s)
    }

    /// AdamW on the averaged gradients, scaled by `clip_grad_norm_`'s coefficient when clipping;
    /// returns the global norm before clipping (nil when not clipping). Every rank holds the same
    /// averaged gradients, so every rank computes the same coefficient.
    func update(_ s: FinetuneSession, learningRate lr: Double) -> Float? {
        let arena = s.target.parameters
        var scale: Float = 1, norm: Float?
        if let maxNorm = s.settings.clipGradientNorm {
            let global = Gradients.globalNorm(UnsafeBufferPointer(arena.gradients.buffer), threads: options.threads)
            scale = Gradients.clipCoefficient(norm: global, maxNorm: maxNorm)
            norm = global
        }
        s.optimizer.step(parameters: arena.values.buffer, gradients: UnsafeBufferPointer(arena.gradients.buffer),
                         decayRanges: s.decayRanges, learningRate: Float(lr), gradientScale: scale,
                         rateScale: (s.target.encoderRange, s.settings.encoderRateScale))
        return norm
    }

    /// Metrics line and progress (rank 0).
    func record(_ loss: TrackingLoss, learningRate lr: Double, gradientNorm: Float?, seconds: Double, _ s: FinetuneSession) throws {
        if s.firstLoss == nil { s.firstLoss = loss.total }
        s.lastLoss = loss.total
        s.window.samples += s.settings.globalBatch
        s.window.seconds += seconds
        var line: [String: Any] = ["step": s.step, "loss": loss.total, "loss_heatmap": loss.heatmap, "loss_catheter": loss.catheter,
                                   "lr": lr, "step_seconds": seconds, "ranks": communicator.size, "global_batch": s.settings.globalBatch]
        if let gradientNorm { line["grad_norm"] = gradientNorm }
        var scalars: [(tag: String, value: Double)] = [
            ("train/loss", Double(loss.total)), ("train/loss_heatmap", Double(loss.heatmap)), ("train/loss_catheter", Double(loss.catheter)),
            ("train/lr", lr), ("perf/samples_per_second", Double(s.settings.globalBatch) / max(seconds, 1e-9)),
        ]
        if let gradientNorm { scalars.append(("train/grad_norm", Double(gradientNorm))) }
        // A full disk drops these records (logged), it does not end training.
        try s.reports.attempt("metrics.jsonl", step: s.step) { try s.metrics?.write(line) }
        try s.reports.attempt("the TensorBoard events", step: s.step) { try s.tensorBoard?.scalars(scalars, step: s.step) }
        let every = options.logEvery ?? max(1, (s.settings.steps - s.startStep) / 50)
        guard isCoordinator && (s.step % every == 0 || s.step == s.settings.steps) else { return }
        let rate = Double(s.window.samples) / max(s.window.seconds, 1e-9)
        let eta = Double(s.settings.steps - s.step) * Double(s.settings.globalBatch) / max(rate, 1e-9)
        print(String(format: "step %d/%d  loss %.4f (heatmap %.4f, catheter %.4f)  lr %.2e  %.1f samples/s  ETA %@",
                     s.step, s.settings.steps, loss.total, loss.heatmap, loss.catheter, lr, rate, ProgressLine.format(seconds: eta)))
        fflush(stdout)
        s.window = (0, 0)
    }

    /// A checkpoint every `checkpointEvery` steps, and at `--stop-at`.
    func checkpointIfDue(_ s: FinetuneSession, stop: Int) throws {
        let byStep = s.settings.checkpointEvery.map { s.step % $0 == 0 } ?? false
        guard byStep || s.step == stop, s.step < s.settings.steps else { return }
        try save(s)
    }

    /// Rank 0 writes the checkpoint; every rank waits for it (not a stall).
    func save(_ s: FinetuneSession) throws {
        s.watchdog.pause()
        defer { s.watchdog.resume() }
        if isCoordinator {
            let state = FinetuneState(step: s.step, optimizerStep: s.optimizer.step, settings: s.settings,
                                      trainingSeconds: s.previousSeconds + Date().timeIntervalSince(s.started),
                                      fluoroVersion: FluoroVersion.fluoro, writtenAt: ISO8601DateFormatter().string(from: Date()))
            let tensors = CheckpointTensors.writer(parameters: s.target.parameters, optimizer: s.optimizer,
                                                   metadata: ["config": String(decoding: try JSONEncoder.sorted.encode(s.settings.config), as: UTF8.self)])
            s.lastCheckpoint = try store.save(step: s.step, tensors: tensors, state: JSONEncoder.sorted.encode(state))
        }
        try communicator.barrier()
    }

    /// The final checkpoint and the summary.
    func finish(_ s: FinetuneSession) throws -> Summary {
        if s.lastCheckpoint?.lastPathComponent != String(format: "step-%08d", s.step) {
            do { try save(s) } catch { throw TrainingError.checkpointFailed(step: s.step, reason: "\(error)", lastCheckpoint: s.lastCheckpoint?.path) }
        }
        return Summary(firstStep: s.startStep, lastStep: s.step, firstLoss: s.firstLoss, lastLoss: s.lastLoss,
                       samplesPerSecond: Double((s.step - s.startStep) * s.settings.globalBatch) / max(s.computeSeconds, 1e-9),
                       lastCheckpoint: s.lastCheckpoint)
    }
}
