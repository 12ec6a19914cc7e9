import Foundation
import FluoroTensor
@testable import FluoroModel

/// The PyTorch reference's fixture (`fimae_sc_reference.py fixture`): config, inputs, parameters,
/// losses and gradients. FLUORO_PARITY_FIXTURE=path checks another fixture instead of the committed one.
struct ReferenceFixture {
    let file: SafetensorsFile
    let config: ModelConfig
    let batch: Int

    static func load() throws -> ReferenceFixture {
        let url: URL
        if let path = ProcessInfo.processInfo.environment["FLUORO_PARITY_FIXTURE"], !path.isEmpty {
            url = URL(fileURLWithPath: path)
        } else {
            guard let resources = Bundle.module.resourceURL else { throw FixtureError.missing("resource bundle") }
            url = resources.appendingPathComponent("Fixtures/fimae_sc_tiny_seed0.safetensors")
        }
        let file = try SafetensorsFile(contentsOf: url)
        guard let json = file.metadata["config"] else { throw FixtureError.missing("metadata 'config' in \(url.path)") }
        let config = try ModelConfig(referenceMetadata: json)
        guard let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
              let batch = (object["B"] as? NSNumber)?.intValue else { throw FixtureError.missing("metadata field B") }
        return ReferenceFixture(file: file, config: config, batch: batch)
    }

    /// A model with the fixture's parameters loaded.
    func model(config override: ModelConfig? = nil) throws -> FIMAESC {
        let model = FIMAESC(config: override ?? config, batch: batch)
        try model.parameters.load(from: file, prefix: "param.")
        return model
    }

    var clip: [Float] { get throws { try file.floats("input.clip") } }
    var vessel: [Float] { get throws { try file.floats("input.vessel") } }
    var mask: [UInt8] { get throws { try file.bytes("input.mask") } }

    func scalar(_ name: String) throws -> Float { try file.floats(name)[0] }

    /// The worst |got - want| over a tensor, relative to max |want|.
    static func relativeError(_ got: [Float], _ want: [Float]) -> Float {
        guard got.count == want.count, !want.isEmpty else { return .infinity }
        let scale = max(want.map { abs($0) }.max() ?? 0, 1e-30)
        return zip(got, want).map { abs($0 - $1) }.max()! / scale
    }
}

enum FixtureError: Error { case missing(String) }
