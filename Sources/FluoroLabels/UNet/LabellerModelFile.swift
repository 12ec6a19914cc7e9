import FluoroTensor
import Foundation

/// A trained labeller on disk: safetensors with the U-Net's parameters under their own names and
/// metadata `kind` = `fluoro-unet-labeller`, `config` (UNetConfig JSON) and `provenance` (free text).
public enum LabellerModelFile {
    public static let kind = "fluoro-unet-labeller"

    /// Writes `parameters` of `config` to `url` (atomically).
    public static func write(_ parameters: ParameterArena, config: UNetConfig, provenance: String, to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var writer = SafetensorsWriter(metadata: ["kind": kind, "config": String(decoding: try encoder.encode(config), as: UTF8.self),
                                                  "provenance": provenance])
        parameters.write(into: &writer)
        try writer.encoded().write(to: url, options: .atomic)
    }

    /// The config and parameters of a labeller file; a clear error for anything else.
    public static func load(_ url: URL) throws -> (config: UNetConfig, parameters: ParameterArena) {
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
        return (config, arena)
    }
}
