import Foundation
import Testing
import FluoroTensor
@testable import FluoroModel

/// FIMAE-SC against the PyTorch reference: the same parameters and inputs give the same loss
/// terms (rel. 1e-5) and every gradient (rel. 1e-4 of the tensor's largest value).
@Suite struct FIMAESCParityTests {
    @Test func parameterNamesMatchTheReference() throws {
        let fixture = try ReferenceFixture.load()
        let arena = ParameterArena(specs: FIMAESCParameters.specs(for: fixture.config))
        let reference = Set(fixture.file.entries.keys.filter { $0.hasPrefix("param.") }.map { String($0.dropFirst(6)) })
        #expect(Set(arena.names) == reference)
        for name in arena.names {
            #expect(arena[name]?.shape == fixture.file.entries["param." + name]?.shape, "shape of \(name)")
        }
    }

    @Test func lossesAndGradientsMatchPyTorch() throws {
        let fixture = try ReferenceFixture.load()
        let model = try fixture.model()
        let losses = try model.forwardBackward(clip: fixture.clip, vessel: fixture.vessel, mask: fixture.mask)
        for (name, got) in [("total", losses.total), ("rec", losses.rec), ("ves", losses.ves)] {
            let want = try fixture.scalar("loss." + name)
            #expect(abs(got - want) <= 1e-5 * abs(want), "loss.\(name): \(got) vs PyTorch \(want)")
        }
        for name in model.parameters.names {
            let error = ReferenceFixture.relativeError(model.parameters.gradientArray(name), try fixture.file.floats("grad." + name))
            #expect(error <= 1e-4, "grad.\(name) is off by \(error) of its largest value")
        }
    }

    @Test func forwardAloneGivesTheSameLosses() throws {
        let fixture = try ReferenceFixture.load()
        let model = try fixture.model()
        let losses = try model.forward(clip: fixture.clip, vessel: fixture.vessel, mask: fixture.mask)
        let want = try fixture.scalar("loss.total")
        #expect(abs(losses.total - want) <= 1e-5 * abs(want))
        #expect(model.parameters.gradients.array.allSatisfy { $0 == 0 }, "forward leaves the gradients alone")
    }

    @Test func accumulationAddsGradients() throws {
        let fixture = try ReferenceFixture.load()
        let model = try fixture.model()
        _ = try model.forwardBackward(clip: fixture.clip, vessel: fixture.vessel, mask: fixture.mask)
        let once = model.parameters.gradients.array
        _ = try model.forwardBackward(clip: fixture.clip, vessel: fixture.vessel, mask: fixture.mask, accumulate: true)
        let twice = model.parameters.gradients.array
        let worst = zip(once, twice).map { abs(2 * $0 - $1) }.max() ?? 0
        let scale = once.map { abs($0) }.max() ?? 0
        #expect(scale > 0 && worst <= 1e-5 * scale, "accumulated twice: off by \(worst / scale) of the largest gradient")
        // Without `accumulate`, the step replaces the gradients.
        _ = try model.forwardBackward(clip: fixture.clip, vessel: fixture.vessel, mask: fixture.mask)
        let again = model.parameters.gradients.array
        let drift = zip(once, again).map { abs($0 - $1) }.max() ?? .infinity
        #expect(drift <= 1e-6 * scale, "a fresh step differs from the first by \(drift / scale) of the largest gradient")
    }

    @Test func plainFIMAESkipsTheVesselDecoder() throws {
        let fixture = try ReferenceFixture.load()
        var config = fixture.config
        config.wVes = 0
        let model = try fixture.model(config: config)
        let losses = try model.forwardBackward(clip: fixture.clip, vessel: fixture.vessel, mask: fixture.mask)
        let rec = try fixture.scalar("loss.rec")
        #expect(abs(losses.rec - rec) <= 1e-5 * rec && losses.total == losses.rec && losses.ves == 0)
        for name in model.parameters.names {
            let got = model.parameters.gradientArray(name)
            if name.hasPrefix("vessel_") {
                #expect(got.allSatisfy { $0 == 0 }, "\(name) gets no gradient when wVes = 0")
            } else if name.hasPrefix("decoder.") || name == "mask_token" {
                // The reconstruction decoder's gradients depend on L_rec alone.
                let error = ReferenceFixture.relativeError(got, try fixture.file.floats("grad." + name))
                #expect(error <= 1e-4, "grad.\(name) is off by \(error)")
            }
        }
    }

    @Test func badInputsThrow() throws {
        let fixture = try ReferenceFixture.load()
        let model = try fixture.model()
        var mask = try fixture.mask
        mask[0] = mask[0] == 0 ? 1 : 0
        #expect(throws: ModelInputError.self) { try model.forward(clip: fixture.clip, vessel: fixture.vessel, mask: mask) }
        #expect(throws: ModelInputError.self) { try model.forward(clip: [1, 2], vessel: fixture.vessel, mask: fixture.mask) }
    }
}

/// Threads split the work, never change the result.
@Suite struct FIMAESCThreadingTests {
    @Test func twoThreadsMatchOne() throws {
        let fixture = try ReferenceFixture.load()
        let model = try fixture.model()
        // Thread counts set for this thread only: suites running beside this one keep theirs.
        let one = try Parallel.withThreads(1) { try model.forwardBackward(clip: fixture.clip, vessel: fixture.vessel, mask: fixture.mask) }
        let gradientsOne = model.parameters.gradients.array
        let two = try Parallel.withThreads(2) { try model.forwardBackward(clip: fixture.clip, vessel: fixture.vessel, mask: fixture.mask) }
        let gradientsTwo = model.parameters.gradients.array
        #expect(abs(one.total - two.total) <= 1e-6 * abs(one.total))
        let scale = gradientsOne.map { abs($0) }.max() ?? 0
        let worst = zip(gradientsOne, gradientsTwo).map { abs($0 - $1) }.max() ?? .infinity
        #expect(scale > 0 && worst <= 1e-6 * scale, "2 threads differ by \(worst / scale) of the largest gradient")
    }
}
