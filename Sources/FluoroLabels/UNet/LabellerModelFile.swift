import FluoroTensor
import Foundation

/// A trained labeller on disk: safetensors with the U-Net's parameters under their own names and
/// metadata `kind` = `fluoro-unet-labeller`, `config` (UNetConfig JSON), `provenance` (free text)
/// and, when known, `training_frame_side`: the side of the frames its crops were cut from (the
/// simulator's field of view is fixed, so this fixes the vessels' width in pixels it learned).
public enum LabellerModelFile {
    public static let kind = "fluoro-unet-labeller"

    /// What a labeller file holds.
    public struct Contents {
        public var config: UNetConfig
        public var parameters: ParameterArena
        /// The side of the training frames, or nil for files written before it was recorded.
        public var trainingFrameSide: Int?
    }

    /// Writes `parameters` of `config` to `url` (atomically).
    public static func write(_ parameters: ParameterArena, config: UNetConfig, provenance: String, trainingFrameSide: Int?,
                             to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var metadata = ["kind": kind, "config": String(decoding: try encoder.encode(config), as: UTF8.self), "provenance": provenance]
        if let trainingFrameSide { metadata["training_frame_side"] = String(trainingFrameSide) }
        var writer = SafetensorsWriter(metadata: metadata)
        parameters.write(into: &writer)
        try writer.encoded().write(to: url, options: .atomic)
    }

    /// The config and parameters of a labeller file; a clear error for anything else.
    public static func load(_ url: URL) throws -> Contents {
        let file: SafetensorsFile
        do { file = try SafetensorsFile(contentsOf: url) } catch {
            throw UNetError.notALabeller(file: url.path, reason: "not a readable safetensors file (\(error))")
        }
        guard file.metadata["kind"] == kind else {
            throw UNetError.notALabeller(file: url.path, reason: "its metadata kind is '\(file.metadata["kind"] ?? "none")', not '\(kind)'")
        }
        guard let json = file.metadata["config"], let config = try? JSONDecoder().decode(UNetConfig.self, from: Data(json.utf8)) else {
            throw UNetError.notALabeller(file: url.path, reason: "its metadata has no readable U-Net config")
        }
        try config.validate()
        let arena = ParameterArena(specs: UNetParameters.specs(for: config))
        do { try arena.load(from: file) } catch {
            throw UNetError.notALabeller(file: url.path, reason: "\(error)")
        }
        var side: Int?
        if let text = file.metadata["training_frame_side"] {
            guard let value = Int(text), value >= 1 else {
                throw UNetError.notALabeller(file: url.path, reason: "its training_frame_side '\(text)' is not a positive whole number")
            }
            side = value
        }
        return Contents(config: config, parameters: arena, trainingFrameSide: side)
    }
}
