import FluoroDistributed
import FluoroShards
import FluoroSupport
import FluoroTensor
import FluoroTraining
import Foundation

extension LabellerTrainer {
    /// Settings, data, model and optimizer: fresh, or from the latest checkpoint.
    func prepare() throws -> LabellerSession {
        if isCoordinator { try FileManager.default.createDirectory(at: options.run, withIntermediateDirectories: true) }
        let (settings, state, checkpoint) = try resolveStart()
        try settings.config.validate()
        try settings.config.checkInput(width: settings.crop, height: settings.crop)
        let sampler = try VesselCropSampler(dataset: try ShardDataset(directory: options.shards), crop: settings.crop,
                                            augmentation: settings.augmentation, shards: options.shards.path)
        let parameters = UNet.makeParameters(settings.config, seed: settings.seed)
        let optimizer = AdamW(count: parameters.values.count, hyperparameters: .init(weightDecay: settings.weightDecay), threads: options.threads)
        if let state, let checkpoint {
            try CheckpointTensors.restore(checkpoint, parameters: parameters, optimizer: optimizer, optimizerStep: state.optimizerStep)
            if isCoordinator { Log.info("resuming \(options.run.path) from step \(state.step)") }
        }
        if isCoordinator {
            try DurableFile.write(Self.encoder.encode(settings), to: Self.settingsURL(run: options.run))
            if let state { try MetricsLog.truncate(runDirectory: options.run, keepingThrough: state.step) }
            print("train-labeller: \(communicator.size) rank(s) x batch \(settings.batchPerRank) x \(options.threads) thread(s), \(settings.steps) steps, "
                  + "\(settings.crop)-px crops from \(sampler.training.count) sequence(s), \(sampler.heldOut.count) held out, run \(options.run.path)")
            fflush(stdout)
        }
        return try LabellerSession(settings: settings, sampler: sampler, parameters: parameters, optimizer: optimizer,
                                   communicator: communicator, metrics: isCoordinator ? try MetricsLog(runDirectory: options.run) : nil,
                                   startStep: state?.step ?? 0, previousSeconds: state?.trainingSeconds ?? 0,
                                   lastCheckpoint: checkpoint?.directory)
    }

    /// The run's settings and state: the asked ones, or the latest checkpoint's.
    func resolveStart() throws -> (LabellerSettings, LabellerState?, Checkpoint?) {
        guard let (state, checkpoint) = try store.startingPoint(resume: options.resume, run: options.run.path,
                                                               state: LabellerState.self, kind: "a labeller training state") else {
            var settings = options.settings
            settings.ranks = communicator.size
            return (settings, nil, nil)
        }
        let settings = try state.settings.resumed(at: state.step, steps: options.steps, checkpointEvery: options.settings.checkpointEvery,
                                                  ranks: communicator.size, run: options.run.path)
        return (settings, state, checkpoint)
    }

    static var encoder: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted]
        return e
    }
}
