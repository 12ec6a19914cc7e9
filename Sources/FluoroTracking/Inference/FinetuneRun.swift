import FluoroTensor
import FluoroTraining
import Foundation

/// A fine-tuning run directory: `finetune.json`, `checkpoints/`, and, when the run trained one,
/// the detector's own run in `detector/`. Loads the latest (or a given) tracker from it and
/// exports it as one tracker file.
public enum FinetuneRun {
    /// Where a tracker run keeps its detector run.
    public static func detectorRun(of run: URL) -> URL { run.appendingPathComponent("detector") }

    /// The tracker (and detector, if trained) of `run`'s latest complete checkpoints, batch 1.
    public static func loadTracker(run: URL, step: Int? = nil) throws -> TrackerFile.Loaded {
        let (settings, checkpoint) = try latest(run: run, step: step)
        guard settings.target == .tracker else {
            throw TrackerFileError.notATracker(path: run.path, reason: "it is a detector run; pass the tracker run that holds it")
        }
        let model = HiFT(config: settings.config, batch: 1)
        try model.parameters.load(from: checkpoint.tensors, prefix: CheckpointTensors.parameterPrefix)
        var detector: HiFTDetector?
        let detectorRun = detectorRun(of: run)
        if FileManager.default.fileExists(atPath: settingsURL(detectorRun).path) {
            let (_, d) = try latest(run: detectorRun, step: nil)
            let loaded = HiFTDetector(config: settings.config, batch: 1)
            try loaded.parameters.load(from: d.tensors, prefix: CheckpointTensors.parameterPrefix)
            detector = loaded
        }
        return TrackerFile.Loaded(config: settings.config, task: settings.task, model: model, detector: detector)
    }

    /// Writes `run`'s tracker (and detector) as one file.
    public static func export(run: URL, step: Int? = nil, to url: URL) throws {
        let loaded = try loadTracker(run: run, step: step)
        let (settings, checkpoint) = try latest(run: run, step: step)
        try TrackerFile.write(config: loaded.config, task: loaded.task, model: loaded.model.parameters,
                              detector: loaded.detector?.parameters,
                              extra: ["step": "\(checkpoint.step)", "encoder": settings.encoder ?? "from scratch"], to: url)
    }

    static func settingsURL(_ run: URL) -> URL { Finetuner.settingsURL(run: run) }

    /// The run's latest complete checkpoint (or step `step`) and its settings.
    static func latest(run: URL, step: Int?) throws -> (FinetuneSettings, Checkpoint) {
        guard FileManager.default.fileExists(atPath: settingsURL(run).path) else {
            throw TrackerFileError.notATracker(path: run.path, reason: "no finetune.json: not a fine-tuning run directory")
        }
        let store = CheckpointStore(runDirectory: run)
        let checkpoint = try step.map { try CheckpointStore.load(store.directory.appendingPathComponent(String(format: "step-%08d", $0))) }
            ?? store.latest()
        let state = try JSONDecoder().decode(FinetuneState.self, from: checkpoint.state)
        return (state.settings, checkpoint)
    }
}
