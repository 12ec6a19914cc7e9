import FluoroModel
import FluoroShards
import FluoroTensor
import Foundation

/// What a checkpoint holds besides tensors (`state.json`): where the run is, how to continue
/// its data stream, and the settings it was made with.
public struct TrainingState: Codable, Equatable, Sendable {
    /// Optimisation steps completed.
    public var step: Int
    /// The loader's global cursor after `step` steps (seed + next global sample).
    public var loaderCursor: LoaderCursor
    /// AdamW's step counter (the bias corrections depend on it).
    public var optimizerStep: Int
    /// The run's settings (model, optimisation, batch).
    public var settings: TrainingSettings
    /// The dataset it was trained on (a resume on another dataset would change the sample order).
    public var dataset: DatasetFingerprint?
    /// Ranks that wrote it.
    public var ranks: Int
    /// Seconds of training so far, for the progress line.
    public var trainingSeconds: Double
    /// Fluoro version that wrote it.
    public var fluoroVersion: String
    /// Wall-clock time of writing (ISO 8601).
    public var writtenAt: String
}

/// Names of the tensors in a checkpoint's `tensors.safetensors`.
public enum CheckpointTensors {
    /// Parameters are stored as `param.<VideoMAE name>`.
    public static let parameterPrefix = "param."
    /// AdamW's first and second moments, flat over the parameter arena.
    public static let firstMoment = "optimizer.m"
    public static let secondMoment = "optimizer.v"

    /// Parameters plus AdamW moments, ready for `CheckpointStore.save`.
    public static func writer(parameters: ParameterArena, optimizer: AdamW, metadata: [String: String]) -> SafetensorsWriter {
        var writer = SafetensorsWriter(metadata: metadata)
        parameters.write(into: &writer, prefix: parameterPrefix)
        let state = optimizer.state
        writer.add(firstMoment, shape: [state.m.count], floats: state.m)
        writer.add(secondMoment, shape: [state.v.count], floats: state.v)
        return writer
    }

    /// Restores parameters and AdamW state from a checkpoint (moments as long as the optimiser:
    /// the arena's storage, padding included).
    public static func restore(_ checkpoint: Checkpoint, parameters: ParameterArena, optimizer: AdamW, optimizerStep: Int) throws {
        try parameters.load(from: checkpoint.tensors, prefix: parameterPrefix)
        let count = optimizer.count
        let m = try checkpoint.tensors.floats(firstMoment, shape: [count])
        let v = try checkpoint.tensors.floats(secondMoment, shape: [count])
        try optimizer.load(AdamW.State(step: optimizerStep, m: m, v: v))
    }
}
