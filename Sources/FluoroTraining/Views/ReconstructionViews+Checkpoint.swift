import FluoroModel
import FluoroPlot
import FluoroShards
import Foundation

extension ReconstructionViews {
    /// The reconstruction panel of a saved checkpoint on any dataset (`fluoro reconstruct`): the
    /// model config comes from the checkpoint's state, the clips from `source` (`sequences`, or
    /// the first `count` long enough), masks from the fixed panel seed.
    public static func panel(checkpoint: Checkpoint, source: ClipSource, sequences: [Int]?, count: Int = 3,
                             name: String) throws -> RGBImage {
        let state: TrainingState
        do { state = try JSONDecoder().decode(TrainingState.self, from: checkpoint.state) } catch {
            throw CheckpointError.corrupt(path: checkpoint.directory.path, reason: "state.json does not decode (\(error))")
        }
        let config = state.settings.model
        let inputs = try ReconstructionInputs(source: source, spec: config.clipSpec, sequences: sequences, count: count, name: name)
        let model = FIMAESC(config: config, batch: inputs.count)
        try model.parameters.load(from: checkpoint.tensors, prefix: CheckpointTensors.parameterPrefix)
        let r = try Reconstruction(model: model, inputs: inputs)
        return ReconstructionPanel.render(r, title: String(format: "STEP %d  REC %.3f  VES %.3f", checkpoint.step, r.losses.rec, r.losses.ves))
    }
}
