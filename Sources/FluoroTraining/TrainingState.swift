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

    /// Parameters plus AdamW moments, ready for `CheckpointStore.save`, as pointers into the arena
    /// and the optimiser (no copy): neither may change until the checkpoint is written.
    public static func writer(parameters: ParameterArena, optimizer: AdamW, metadata: [String: String]) -> SafetensorsStream {
        var stream = SafetensorsStream(metadata: metadata)
        parameters.write(into: &stream, prefix: parameterPrefix)
        let moments = optimizer.moments
        stream.add(firstMoment, shape: [moments.m.count], floats: moments.m)
        stream.add(secondMoment, shape: [moments.v.count], floats: moments.v)
        return stream
    }

    /// Restores parameters and AdamW state from a checkpoint (moments as long as the optimiser:
    /// the arena's storage, padding included), copying each tensor straight into place.
    public static func restore(_ checkpoint: Checkpoint, parameters: ParameterArena, optimizer: AdamW, optimizerStep: Int) throws {
        try parameters.load(from: checkpoint.tensors, prefix: parameterPrefix)
        let shape = [optimizer.count]
        for name in [firstMoment, secondMoment] where try checkpoint.tensors.entry(name).shape != shape {
            throw AdamWError.stateSizeMismatch(expected: optimizer.count, moments: try checkpoint.tensors.entry(firstMoment).shape.reduce(1, *),
                                               secondMoments: try checkpoint.tensors.entry(secondMoment).shape.reduce(1, *))
        }
        try optimizer.load(step: optimizerStep) { m, v in
            try checkpoint.tensors.copyFloats(firstMoment, shape: shape, into: m)
            try checkpoint.tensors.copyFloats(secondMoment, shape: shape, into: v)
        }
    }
}
