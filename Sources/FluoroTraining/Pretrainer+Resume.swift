import FluoroSupport
import FluoroTensor
import Foundation

extension Pretrainer {
    /// Settings and starting point: fresh, or from a checkpoint (possibly with another rank count).
    func resolveStart() throws -> (settings: TrainingSettings, state: TrainingState?, checkpoint: Checkpoint?) {
        let run = options.run.path
        let checkpoint: Checkpoint?
        switch options.resume {
        case .none:
            if let latest = store.completeSteps().last { throw TrainingError.runDirectoryInUse(run: run, latestStep: latest) }
            return (freshSettings(), nil, nil)
        case .latest: checkpoint = try store.latest()
        case .path(let url):
            let loaded = try CheckpointStore.load(url)
            try refuseNewerCheckpoints(than: loaded, from: url)
            checkpoint = loaded
        }
        guard let checkpoint else { return (freshSettings(), nil, nil) }
        let state: TrainingState
        do { state = try JSONDecoder().decode(TrainingState.self, from: checkpoint.state) } catch {
            throw CheckpointError.corrupt(path: checkpoint.directory.path, reason: "state.json does not decode (\(error))")
        }
        var settings = state.settings
        let asked = options.settings
        var mismatches: [String] = []
        func compare<T: Equatable>(_ key: ExplicitSetting, _ mine: T, _ theirs: T) {
            if options.explicit.contains(key) && mine != theirs { mismatches.append("\(key.rawValue) (\(mine) here, \(theirs) in the checkpoint)") }
        }
        compare(.model, asked.model, settings.model)
        compare(.seed, asked.seed, settings.seed)
        compare(.learningRate, asked.baseLearningRate, settings.baseLearningRate)
        compare(.accumulate, asked.accumulationSteps, settings.accumulationSteps)
        compare(.batch, asked.batchPerRank * communicator.size * settings.accumulationSteps, settings.globalBatch)
        compare(.clipGradient, asked.clipGradientNorm, settings.clipGradientNorm)
        compare(.precision, asked.matrixPrecision, settings.matrixPrecision)
        if !mismatches.isEmpty {
            throw TrainingError.incompatibleResume(run: run, reason: "these differ from the run being resumed: \(mismatches.joined(separator: "; ")). Drop them to continue the run as it was (--batch is per rank: the global batch must stay the same), or start a new --run")
        }
        if isCoordinator, let warning = SgemmLibrary.resumeWarning(saved: settings.sgemmLibrary) { Log.info(warning) }
        settings.sgemmLibrary = SgemmLibrary.current.rawValue
        settings.checkpointEvery = asked.checkpointEvery
        settings.checkpointMinutes = asked.checkpointMinutes
        settings.keepCheckpoints = asked.keepCheckpoints
        settings.bucketBytes = asked.bucketBytes
        settings.validationEvery = asked.validationEvery
        settings.validationClips = asked.validationClips
        let global = settings.globalBatch, perRank = communicator.size * settings.accumulationSteps
        guard global % perRank == 0 else {
            throw TrainingError.incompatibleResume(run: run, reason: "its global batch \(global) does not divide over \(communicator.size) ranks x \(settings.accumulationSteps) accumulated micro-batches; use a rank count that divides it")
        }
        settings.batchPerRank = global / perRank
        settings.ranks = communicator.size
        if options.stepsGiven && asked.steps != settings.steps {
            if isCoordinator { Log.info("resuming with --steps \(asked.steps) instead of \(settings.steps): the learning-rate schedule changes from here on") }
            settings.steps = asked.steps
        }
        guard state.step <= settings.steps else {
            throw TrainingError.incompatibleResume(run: run, reason: "the checkpoint is at step \(state.step), past --steps \(settings.steps)")
        }
        return (settings, state, checkpoint)
    }

    /// The asked settings for a new run, with this process's product library recorded.
    func freshSettings() -> TrainingSettings {
        var settings = options.settings
        settings.sgemmLibrary = SgemmLibrary.current.rawValue
        return settings
    }

    /// Resuming into a run directory that holds checkpoints after the loaded step would interleave
    /// two histories: in the same run, `--resume latest` would later pick the abandoned one; from
    /// another run, each new checkpoint would be pruned right after it is written (the highest
    /// steps are kept). Both are refused, naming the newer steps.
    func refuseNewerCheckpoints(than loaded: Checkpoint, from url: URL) throws {
        let newer = store.completeSteps().filter { $0 > loaded.step }
        guard !newer.isEmpty else { return }
        let steps = newer.map(String.init).joined(separator: ", ")
        let sameRun = url.standardizedFileURL.deletingLastPathComponent().path == store.directory.standardizedFileURL.path
        if sameRun {
            throw TrainingError.incompatibleResume(run: options.run.path, reason: "checkpoints after step \(loaded.step) exist (\(steps)); move them out of \(store.directory.path) to roll back, or resume with --resume latest")
        }
        throw TrainingError.incompatibleResume(run: options.run.path, reason: "\(store.directory.path) holds checkpoints after step \(loaded.step) of \(url.path) (steps \(steps)): every new checkpoint would be pruned as the oldest. Resume into an empty --run directory, or move those checkpoints away")
    }
}
