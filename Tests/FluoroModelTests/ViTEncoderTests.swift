import Foundation
import Testing
import FluoroTensor
@testable import FluoroModel

/// The unmasked encoder: same weights and math as the pretraining encoder, and correct gradients.
@Suite struct ViTEncoderTests {
    @Test func matchesThePretrainingEncoderWhenNothingIsMasked() throws {
        let fixture = try ReferenceFixture.load()
        var config = fixture.config
        config.tubeRatio = 0; config.frameRatio = 0  // every token visible
        let pretraining = try fixture.model(config: config)
        _ = try pretraining.forward(clip: fixture.clip, vessel: fixture.vessel,
                                    mask: [UInt8](repeating: 0, count: fixture.batch * config.tokens))
        let encoder = ViTEncoder(config: config, batch: fixture.batch)
        try encoder.parameters.load(from: fixture.file, prefix: "param.")
        #expect(encoder.parameters.names.allSatisfy { $0.hasPrefix("encoder.") } && encoder.parameters.names.count == 4 + 13 * config.depth)
        let tokens = Array(try encoder.forward(clip: fixture.clip))
        #expect(tokens.count == fixture.batch * config.tokens * config.width)
        #expect(tokens == pretraining.encoder.normOut.array)
    }

    @Test func gradientsMatchFiniteDifferences() throws {
        let fixture = try ReferenceFixture.load()
        let encoder = ViTEncoder(config: fixture.config, batch: fixture.batch)
        try encoder.parameters.load(from: fixture.file, prefix: "param.")
        let clip = try fixture.clip
        let weights = (0..<(fixture.batch * fixture.config.tokens * fixture.config.width)).map { Float(sin(Double($0) * 0.37)) }
        func loss() throws -> Double {
            zip(try encoder.forward(clip: clip), weights).reduce(0) { $0 + Double($1.0) * Double($1.1) }
        }
        _ = try loss()
        encoder.parameters.zeroGradients()
        weights.withUnsafeBufferPointer { encoder.backward(dTokens: $0.baseAddress!) }
        let arena = encoder.parameters
        // The first block, the patch embedding and the final norm (later blocks repeat the first's code).
        for view in arena.views where !view.name.contains("blocks.") || view.name.contains("blocks.0.") {
            let analytic = arena.gradientArray(view.name)
            let scale = max(analytic.map { abs($0) }.max() ?? 0, 1e-3)
            do {  // one entry per tensor keeps this debug-build test fast
                let i = (view.offset * 7 + 3) % view.count
                let p = arena.values.pointer + view.offset + i, saved = p.pointee, h: Float = 1e-2
                p.pointee = saved + h; let up = try loss()
                p.pointee = saved - h; let down = try loss()
                p.pointee = saved
                let numeric = Float((up - down) / (2 * Double(h)))
                #expect(abs(numeric - analytic[i]) <= 2e-2 * scale, "\(view.name)[\(i)]: \(numeric) vs \(analytic[i])")
            }
        }
    }
}
