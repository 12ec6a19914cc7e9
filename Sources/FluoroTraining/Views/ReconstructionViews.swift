import FluoroModel
import FluoroPlot
import FluoroShards
import FluoroTensor
import Foundation

/// The reconstruction panels of a run: the fixed clips, a model of their batch size, and where
/// the pictures go (`RUN/images/step-N.png`, and the TensorBoard file as "reconstruction").
public final class ReconstructionViews {
    /// The clips shown.
    public let inputs: ReconstructionInputs
    /// A model holding a copy of the parameters, batch = clips shown.
    public let model: FIMAESC
    /// `RUN/images`.
    public let directory: URL

    /// The tag of the panels in TensorBoard.
    public static let tag = "reconstruction"

    public init(config: ModelConfig, inputs: ReconstructionInputs, runDirectory: URL) {
        self.inputs = inputs
        model = FIMAESC(config: config, batch: inputs.count)
        directory = runDirectory.appendingPathComponent("images")
    }

    /// The panel with the parameters `values` (a training arena's values, same layout).
    public func render(values: FloatBuffer, step: Int) throws -> RGBImage {
        model.parameters.values.pointer.update(from: values.pointer, count: model.parameters.values.count)
        let r = try Reconstruction(model: model, inputs: inputs)
        return ReconstructionPanel.render(r, title: String(format: "STEP %d  REC %.3f  VES %.3f", step, r.losses.rec, r.losses.ves))
    }

    /// Renders the panel of `step`, writes `images/step-N.png` and, if given, the TensorBoard image.
    @discardableResult
    public func save(values: FloatBuffer, step: Int, tensorBoard: TensorBoardWriter?) throws -> URL {
        let image = try render(values: values, step: step)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent(Self.fileName(step: step))
        try image.write(to: url)
        try tensorBoard?.image(image, tag: Self.tag, step: step)
        return url
    }

    /// "step-N.png".
    public static func fileName(step: Int) -> String { "step-\(step).png" }
}
