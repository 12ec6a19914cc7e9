import FluoroTensor
import FluoroTraining
import Foundation
import Testing
@testable import FluoroTracking

/// HiFT against `hift_reference.py fixture` (tiny config): heatmap and catheter logits, both loss
/// terms, every gradient, the parameters after one AdamW step, and the read-out cases.
/// FLUORO_HIFT_FIXTURE=path checks another fixture (another seed, the bench config).
@Suite(.serialized) struct HiFTParityTests {
    struct Fixture {
        let file: SafetensorsFile
        let config: HiFTConfig
        let batch: Int
        let lr: Float

        static func load() throws -> Fixture {
            let url: URL
            if let path = ProcessInfo.processInfo.environment["FLUORO_HIFT_FIXTURE"], !path.isEmpty {
                url = URL(fileURLWithPath: path)
            } else {
                url = try #require(Bundle.module.resourceURL).appendingPathComponent("Fixtures/hift_tiny_seed0.safetensors")
            }
            let file = try SafetensorsFile(contentsOf: url)
            let json = try #require(file.metadata["config"])
            let meta = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
            return Fixture(file: file, config: try HiFTConfig(referenceMetadata: json),
                           batch: try #require((meta["B"] as? NSNumber)?.intValue),
                           lr: try #require((meta["lr"] as? NSNumber)?.floatValue))
        }

        func model() throws -> HiFT {
            let model = HiFT(config: config, batch: batch)
            try model.parameters.load(from: file, prefix: "param.")
            return model
        }

        func batchInputs() throws -> TrackingBatch {
            TrackingBatch(windows: try file.floats("input.window"), past: try file.floats("input.past"),
                          current: try file.floats("input.now"), catheterMasks: try file.floats("input.catheter"),
                          hasCatheterMask: try file.floats("input.has_catheter").map { $0 > 0 })
        }
    }

    /// The worst |got - want| relative to max |want|.
    static func relativeError(_ got: [Float], _ want: [Float]) -> Float {
        guard got.count == want.count, !want.isEmpty else { return .infinity }
        let scale = max(want.map { abs($0) }.max() ?? 0, 1e-30)
        return zip(got, want).map { abs($0 - $1) }.max()! / scale
    }

    @Test func parameterNamesAndShapesAreTheReferences() throws {
        let f = try Fixture.load()
        let model = HiFT(config: f.config, batch: f.batch)
        let reference = Set(f.file.entries.keys.filter { $0.hasPrefix("param.") }.map { String($0.dropFirst(6)) })
        #expect(Set(model.parameters.names) == reference)
        for view in model.parameters.views { #expect(f.file.entries["param." + view.name]?.shape == view.shape, "\(view.name)") }
    }

    @Test func logitsLossesAndEveryGradientMatch() throws {
        Parallel.configure(threads: 1)
        let f = try Fixture.load()
        let model = try f.model()
        let loss = try model.forwardBackward(f.batchInputs())
        #expect(try abs(loss.total - f.file.floats("loss.total")[0]) < 1e-5)
        #expect(try abs(loss.heatmap - f.file.floats("loss.heatmap")[0]) < 1e-5)
        #expect(try abs(loss.catheter - f.file.floats("loss.catheter")[0]) < 1e-5)
        let P = f.batch * f.config.crop * f.config.crop
        let heat = Array(UnsafeBufferPointer(start: model.heatmapHead.logits.pointer, count: P))
        #expect(try Self.relativeError(heat, f.file.floats("output.heatmap")) < 1e-5)
        for view in model.parameters.views {
            let error = Self.relativeError(model.parameters.gradientArray(view.name), try f.file.floats("grad." + view.name))
            #expect(error < 1e-4, "gradient of \(view.name): relative error \(error)")
        }
        // Training ran the catheter head on the windows with a mask only (the fixture has one of
        // two, so the gradients above cover that path); the public forward runs it on every window.
        #expect(model.catheterSamples == [0] && f.batch == 2)
        let inputs = try f.batchInputs()
        let cath = inputs.windows.withUnsafeBufferPointer { w in
            inputs.past.withUnsafeBufferPointer { p in
                Array(UnsafeBufferPointer(start: model.forward(window: w.baseAddress!, past: p.baseAddress!).catheter!, count: P))
            }
        }
        #expect(try Self.relativeError(cath, f.file.floats("output.catheter")) < 1e-5)
    }

    @Test func oneAdamWStepLandsOnTheReference() throws {
        Parallel.configure(threads: 1)
        let f = try Fixture.load()
        let model = try f.model()
        _ = try model.forwardBackward(f.batchInputs())
        let arena = model.parameters
        let optimizer = AdamW(count: arena.values.count)  // the padded arena: padding stays zero
        optimizer.step(parameters: arena.values.buffer, gradients: UnsafeBufferPointer(arena.gradients.buffer),
                       decayRanges: arena.views.filter(\.decays).map { $0.offset..<($0.offset + $0.count) }, learningRate: f.lr)
        // As the pretraining parity test: 1e-6 plus the gradient tolerance propagated through the
        // first AdamW step, lr·g/(|g|+eps), steep where |g| is near eps.
        let eps: Float = 1e-8
        var worst: (excess: Float, name: String) = (0, "")
        for view in arena.views {
            let want = try f.file.floats("after_adamw." + view.name), reference = try f.file.floats("grad." + view.name)
            let gradientTolerance = 1e-4 * (reference.map(abs).max() ?? 0)
            for (i, got) in arena.valueArray(view.name).enumerated() {
                let g = abs(reference[i])
                let propagated = f.lr * eps * gradientTolerance / ((g + eps) * (g + eps))
                let excess = abs(got - want[i]) - (1e-6 + propagated)
                if excess > worst.excess { worst = (excess, view.name) }
            }
        }
        #expect(worst.excess <= 0, "a parameter in \(worst.name) is off by \(worst.excess) beyond its tolerance")
    }

    @Test func readOutCasesMatch() throws {
        let f = try Fixture.load()
        let side = f.config.crop, K = f.config.landmarks
        var cases = 0
        while f.file.entries["readout.\(cases).logits"] != nil {
            let logits = try f.file.floats("readout.\(cases).logits"), want = try f.file.floats("readout.\(cases).points")
            let got = logits.withUnsafeBufferPointer { HeatmapReadOut.landmarks(logits: $0.baseAddress!, height: side, width: side, count: K) }
            for k in 0..<K {
                if want[2 * k].isNaN {
                    #expect(got[k] == nil, "case \(cases) landmark \(k): expected none")
                } else {
                    let point = try #require(got[k], "case \(cases) landmark \(k): expected a point")
                    #expect(abs(point.x - Double(want[2 * k])) < 1e-4 && abs(point.y - Double(want[2 * k + 1])) < 1e-4,
                            "case \(cases) landmark \(k): \(point) vs \(want[2 * k]), \(want[2 * k + 1])")
                }
            }
            cases += 1
        }
        #expect(cases >= 4)
    }
}
