import FluoroSupport
import Foundation

extension Pretrainer {
    /// Counts a finished step: timings, the metrics line, the TensorBoard scalars (both dropped,
    /// not fatal, when the disk is full) and, every `logEvery` steps, the progress line.
    func record(_ o: StepOutcome, _ s: TrainingSession) throws {
        s.step += 1
        s.dataSeconds += o.dataSeconds
        s.computeSeconds += o.computeSeconds
        s.commSeconds += o.commSeconds
        s.progress.count(items: s.settings.globalBatch, seconds: o.stepSeconds)
        if s.firstLoss == nil { s.firstLoss = o.loss }
        s.lastLoss = o.loss
        var line: [String: Any] = ["step": s.step, "loss": o.loss, "loss_rec": o.rec, "loss_ves": o.ves, "lr": o.learningRate,
                                   "step_seconds": o.stepSeconds, "data_seconds": o.dataSeconds,
                                   "comm_seconds": o.commSeconds, "ranks": communicator.size,
                                   "global_batch": s.settings.globalBatch, "samples_seen": s.loader.cursor.nextSample]
        if o.skipped { line["skipped_nonfinite"] = true }
        if let norm = o.gradientNorm { line["grad_norm"] = norm }
        if let v = o.validation {
            line.merge(["val_loss": v.losses.total, "val_loss_rec": v.losses.rec, "val_loss_ves": v.losses.ves, "val_seconds": v.seconds]) { $1 }
            s.lastValidation = (s.step, v.losses.total)
        }
        // A full disk drops these records (logged), it does not end training.
        try s.reports.attempt("metrics.jsonl", step: s.step) { try s.metrics?.write(line) }
        try s.reports.attempt("the TensorBoard events", step: s.step) { try s.tensorBoard?.scalars(scalars(o, s), step: s.step) }
        if isCoordinator && (s.step % s.logEvery == 0 || s.step == s.total) { printProgress(o, s) }
    }

    /// The TensorBoard scalars of a step: losses, learning rate, gradient norm (when clipping
    /// computes it), clips/s and the share of the step spent in communication.
    func scalars(_ o: StepOutcome, _ s: TrainingSession) -> [(tag: String, value: Double)] {
        var values: [(tag: String, value: Double)] = [
            ("train/loss", Double(o.loss)), ("train/loss_rec", Double(o.rec)), ("train/loss_ves", Double(o.ves)),
            ("train/lr", o.learningRate),
        ]
        if let norm = o.gradientNorm { values.append(("train/grad_norm", Double(norm))) }
        if let v = o.validation {
            values += [("val/loss", Double(v.losses.total)), ("val/loss_rec", Double(v.losses.rec)), ("val/loss_ves", Double(v.losses.ves))]
        }
        values.append(("perf/clips_per_second", Double(s.settings.globalBatch) / max(o.stepSeconds, 1e-9)))
        values.append(("perf/comm_share", o.commSeconds / max(o.stepSeconds, 1e-9)))
        return values
    }

    /// The progress line: step/total, losses, lr, share of time in communication, smoothed clips/s and ETA.
    /// The last validation loss follows the training loss, with its step when it is older.
    func printProgress(_ o: StepOutcome, _ s: TrainingSession) {
        let commShare = s.commSeconds / max(s.commSeconds + s.computeSeconds + s.dataSeconds, 1e-9)
        let validation = s.lastValidation.map { v in
            String(format: "  val %.4f", v.loss) + (v.step == s.step ? "" : " (step \(v.step))")
        } ?? ""
        s.progress.report(step: s.step, itemsPerStep: s.settings.globalBatch,
                          details: String(format: "loss %.4f (rec %.4f, ves %.4f)", o.loss, o.rec, o.ves) + validation
                              + String(format: "  lr %.2e  comm %.0f%%", o.learningRate, 100 * commShare))
    }
}
