import FluoroSupport
import FluoroTensor
import FluoroTraining
import Foundation

extension LabellerTrainer {
    /// One optimisation step: this rank's crops of the global batch, averaged gradients, AdamW.
    func trainStep(_ s: LabellerSession) throws {
        let t0 = Date()
        let (B, P) = (s.settings.batchPerRank, s.settings.crop * s.settings.crop)
        let first = s.step * s.settings.globalBatch + communicator.rank * B
        for j in 0..<B {
            try s.sampler.sample(first + j, seed: s.settings.seed, image: s.images.pointer + j * P, target: s.targets.pointer + j * P)
        }
        let local = s.net.forwardBackward(images: s.images.pointer, targets: s.targets.pointer, dLogits: s.dLogits.pointer)
        try s.reducer.averageAll()
        var losses = [Double(local.total), Double(local.dice), Double(local.bce)]
        try communicator.allReduceSum(&losses)
        let loss = losses.map { Float($0 / Double(communicator.size)) }
        guard loss[0].isFinite else {
            throw TrainingError.nonFiniteLoss(step: s.step, loss: loss[0], lastCheckpoint: s.lastCheckpoint?.path)
        }
        let lr = s.settings.schedule.rate(at: s.step)
        let arena = s.net.parameters
        s.optimizer.step(parameters: arena.values.buffer, gradients: UnsafeBufferPointer(arena.gradients.buffer),
                         decayRanges: s.decayRanges, learningRate: Float(lr))
        s.step += 1
        let seconds = Date().timeIntervalSince(t0)
        s.computeSeconds += seconds
        if s.firstLoss == nil { s.firstLoss = loss[0] }
        s.lastLoss = loss[0]
        try s.metrics?.write(["step": s.step, "loss": loss[0], "loss_dice": loss[1], "loss_bce": loss[2], "lr": lr,
                              "step_seconds": seconds, "ranks": communicator.size, "global_batch": s.settings.globalBatch])
        let every = options.logEvery ?? max(1, (s.settings.steps - s.startStep) / 50)
        if isCoordinator && (s.step % every == 0 || s.step == s.settings.steps) {
            print(String(format: "step %d/%d  loss %.4f (dice %.4f, bce %.4f)  lr %.2e  %.2f s/step", s.step, s.settings.steps,
                         loss[0], loss[1], loss[2], lr, seconds))
            fflush(stdout)
        }
    }

    /// Rank 0 labels the held-out crops and logs their Dice (at 0.5, and the best) and AUC.
    func validate(_ s: LabellerSession) throws {
        guard isCoordinator else { return }
        let P = s.settings.crop * s.settings.crop
        let image = FloatBuffer(count: P), target = FloatBuffer(count: P)
        var metrics = SegmentationMetrics()
        var scores = [UInt8](repeating: 0, count: P), truth = [Bool](repeating: false, count: P)
        for k in 0..<s.settings.validationCrops {
            try s.sampler.validation(k, image: image.pointer, target: target.pointer)
            let logits = s.validationNet.forward(image.pointer)
            for i in 0..<P { scores[i] = VesselnessQuantiser.byte(logit: logits[i]); truth[i] = target[i] > 0.5 }
            metrics.add(scores: scores, truth: truth, count: P)
        }
        s.validation = metrics
        try s.metrics?.write(["step": s.step, "val_dice": metrics.diceAtHalf, "val_dice_best": metrics.bestDice.dice, "val_auc": metrics.auc,
                              "val_precision_at_90_recall": metrics.precision()])
        print(String(format: "  held-out step %d: Dice %.3f (best %.3f), AUC %.4f, precision at 90%% recall %.3f",
                     s.step, metrics.diceAtHalf, metrics.bestDice.dice, metrics.auc, metrics.precision()))
        fflush(stdout)
    }

    /// A checkpoint every `checkpointEvery` steps, and at `--stop-at`.
    func checkpointIfDue(_ s: LabellerSession, stop: Int) throws {
        let byStep = s.settings.checkpointEvery.map { s.step % $0 == 0 } ?? false
        guard byStep || s.step == stop else { return }
        try save(s)
    }

    /// Rank 0 writes the checkpoint; every rank waits for it.
    func save(_ s: LabellerSession) throws {
        if isCoordinator, s.lastCheckpoint?.lastPathComponent != String(format: "step-%08d", s.step) {
            let state = LabellerState(step: s.step, optimizerStep: s.optimizer.step, settings: s.settings,
                                      trainingSeconds: s.previousSeconds + s.computeSeconds, fluoroVersion: FluoroVersion.fluoro)
            let tensors = CheckpointTensors.writer(parameters: s.net.parameters, optimizer: s.optimizer, metadata: ["kind": "fluoro-unet-labeller-checkpoint"])
            s.lastCheckpoint = try store.save(step: s.step, tensors: tensors, state: Self.encoder.encode(state))
        }
        try communicator.barrier()
    }

    /// The final checkpoint, the model file (when the run is complete) and the summary.
    func finish(_ s: LabellerSession, stop: Int) throws -> Summary {
        try save(s)
        var model: URL?
        if isCoordinator && s.step == s.settings.steps {
            let url = Self.modelURL(run: options.run)
            let provenance = "fluoro train-labeller: \(s.settings.steps) steps x global batch \(s.settings.globalBatch) of \(s.settings.crop)-px crops, "
                + "seed \(s.settings.seed), shards \(options.shards.lastPathComponent)"
            try LabellerModelFile.write(s.net.parameters, config: s.settings.config, provenance: provenance,
                                         trainingFrameSide: s.sampler.trainingFrameSide, to: url)
            model = url
        }
        return Summary(firstStep: s.startStep, lastStep: s.step, firstLoss: s.firstLoss, lastLoss: s.lastLoss,
                       secondsPerStep: s.computeSeconds / Double(max(1, s.step - s.startStep)), validation: s.validation, model: model)
    }
}
