import FluoroModel
import FluoroSupport
import FluoroTensor
import Foundation

/// Problems with an exported encoder, naming the file and the tensor.
public enum ExportError: Error, CustomStringConvertible {
    case invalid(file: String, problems: [String])

    public var description: String {
        switch self {
        case let .invalid(file, problems):
            return "\(file) is not a valid Fluoro encoder export:\n" + problems.map { "  - " + $0 }.joined(separator: "\n")
        }
    }
}

/// The pretrained encoder alone, as safetensors with VideoMAE's names and shapes (METHOD §8):
/// `encoder.patch_embed.proj.weight` [D,1,tt,p,p], `encoder.blocks.{i}.…`, `encoder.norm.*`,
/// with the model config (JSON) in the metadata under "config".
public enum EncoderExport {
    /// The encoder's parameter names and shapes for a config, in VideoMAE order.
    public static func expectedTensors(for config: ModelConfig) -> [(name: String, shape: [Int])] {
        FIMAESCParameters.specs(for: config).filter { $0.name.hasPrefix("encoder.") }.map { ($0.name, $0.shape) }
    }

    /// Writes the encoder of a checkpoint to `output`; returns the number of tensors written.
    @discardableResult
    public static func export(checkpoint: Checkpoint, to output: URL) throws -> Int {
        let state = try JSONDecoder().decode(TrainingState.self, from: checkpoint.state)
        let config = state.settings.model
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var writer = SafetensorsWriter(metadata: [
            "config": String(decoding: try encoder.encode(config), as: UTF8.self),
            "format": "fluoro-encoder", "names": "videomae",
            "fluoro_version": FluoroVersion.fluoro, "step": "\(state.step)",
        ])
        let expected = expectedTensors(for: config)
        for (name, shape) in expected {
            let values = try checkpoint.tensors.floats(CheckpointTensors.parameterPrefix + name, shape: shape)
            writer.add(name, shape: shape, floats: values)
        }
        try DurableFile.write(writer.encoded(), to: output)
        return expected.count
    }

    /// Validates an exported encoder: config metadata, every expected name with its shape, no
    /// extra tensors, finite values. Returns the config; throws listing every problem.
    @discardableResult
    public static func check(_ url: URL) throws -> ModelConfig {
        let file = try SafetensorsFile(contentsOf: url)
        guard let json = file.metadata["config"],
              let config = try? JSONDecoder().decode(ModelConfig.self, from: Data(json.utf8)) else {
            throw ExportError.invalid(file: url.path, problems: ["metadata has no readable \"config\" (a ModelConfig JSON)"])
        }
        var problems: [String] = []
        let expected = expectedTensors(for: config)
        for (name, shape) in expected {
            guard let entry = file.entries[name] else { problems.append("missing tensor \(name) \(shape)"); continue }
            if entry.dtype != "F32" { problems.append("\(name) is \(entry.dtype), expected F32") }
            if entry.shape != shape { problems.append("\(name) has shape \(entry.shape), expected \(shape)"); continue }
            if let values = try? file.floats(name), values.contains(where: { !$0.isFinite }) {
                problems.append("\(name) holds NaN or Inf")
            }
        }
        let extra = Set(file.entries.keys).subtracting(expected.map(\.name))
        for name in extra.sorted() { problems.append("unexpected tensor \(name) (an encoder export holds encoder.* only)") }
        if !problems.isEmpty { throw ExportError.invalid(file: url.path, problems: problems) }
        return config
    }
}
