import FluoroSupport
import Foundation
import FluoroTensor
import Testing
@testable import FluoroLabels

/// Finite differences through the whole U-Net (tiny channels, 2 levels, 8x8 images, batch 2):
/// every parameter tensor (down, bottleneck, up, head) against the analytic gradients of soft
/// Dice + BCE. The layers are Float-only, so the loss is re-summed in Double from the logits.
@Suite(.serialized) struct UNetGradientTests {
    struct Fixture {
        let net: UNet
        let images: FloatBuffer, targets: FloatBuffer, dLogits: FloatBuffer
        func loss() -> SegmentationLoss {
            net.forwardBackward(images: images.pointer, targets: targets.pointer, dLogits: dLogits.pointer)
        }
        /// The loss of a forward pass, summed in Double from the Float logits.
        func precise() -> Double {
            let out = net.forward(images.pointer), P = net.height * net.width
            var bce = 0.0, dice = 0.0
            for b in 0..<net.batch {
                var pg = 0.0, ps = 0.0, gs = 0.0
                for i in (b * P)..<((b + 1) * P) {
                    let x = Double(out[i]), y = Double(targets[i]), p = 1 / (1 + exp(-x))
                    bce += max(x, 0) - x * y + log(1 + exp(-abs(x)))
                    pg += p * y; ps += p; gs += y
                }
                dice += 1 - (2 * pg + 1) / (ps + gs + 1)
            }
            return bce / Double(net.batch * P) + dice / Double(net.batch)
        }
    }

    static func fixture(seed: UInt64, batch: Int = 2, side: Int = 8, biasShift: Float = 0) throws -> Fixture {
        let c = UNetConfig.tiny
        let arena = UNet.makeParameters(c, seed: seed)
        // Small random biases, so that no ReLU sits exactly at its kink for every input.
        var rng = SplitMix64(seed: seed ^ 0xB1A5)
        for v in arena.views where v.shape.count == 1 {
            for i in 0..<v.count { arena.values[v.offset + i] = Float(rng.nextUnit() * 0.2 - 0.1) + biasShift }
        }
        let net = try UNet(config: c, batch: batch, height: side, width: side, parameters: arena, training: true)
        let n = batch * side * side
        let images = FloatBuffer((0..<n).map { _ in Float(ParameterArena.standardNormal(&rng)) })
        let targets = FloatBuffer((0..<n).map { _ in rng.nextUnit() > 0.7 ? 1 : 0 })
        return Fixture(net: net, images: images, targets: targets, dLogits: FloatBuffer(count: n))
    }

    /// Central differences (step h, the loss summed in Double) at 3 of the largest and 3 random
    /// elements of every tensor; returns per tensor how many agree within `tolerance` of the
    /// tensor's largest analytic gradient.
    static func agreement(_ f: Fixture, step: Float, tolerance: Float) -> [(name: String, agreeing: Int, points: Int, worst: Float)] {
        _ = f.loss()
        let arena = f.net.parameters
        var rng = SplitMix64(seed: 11)
        return arena.views.map { view in
            let analytic = arena.gradientArray(view.name)
            let scale = max(analytic.map(abs).max() ?? 0, 1e-3)
            let order = analytic.indices.sorted { abs(analytic[$0]) > abs(analytic[$1]) }
            let picks = Array(order.prefix(3)) + (0..<3).map { _ in Int(rng.next() % UInt64(view.count)) }
            var agreeing = 0, worst: Float = 0
            for i in picks {
                let p = arena.values.pointer + view.offset + i, saved = p.pointee, h = step
                p.pointee = saved + h; let up = f.precise()
                p.pointee = saved - h; let down = f.precise()
                p.pointee = saved
                let error = abs(Float((up - down) / Double(2 * h)) - analytic[i]) / scale
                worst = max(worst, error)
                if error < tolerance { agreeing += 1 }
            }
            #expect(analytic.contains { $0 != 0 }, "\(view.name) has no gradient at all")
            return (view.name, agreeing, picks.count, worst)
        }
    }

    /// Biases shifted up by 3 put every ReLU far from its kink (max-pool still selects): then
    /// the whole backward pass must match finite differences tightly, every tensor, every point.
    @Test func everyParameterMatchesFiniteDifferencesAwayFromKinks() throws {
        Parallel.configure(threads: 1)
        let f = try Self.fixture(seed: 5, biasShift: 3)
        for r in Self.agreement(f, step: 1e-3, tolerance: 2e-2) {
            #expect(r.agreeing == r.points, "\(r.name): \(r.agreeing) of \(r.points) points agree; worst error \(r.worst) of the largest gradient")
        }
    }

    /// With the ReLUs' dead units in play, a step of 1e-3 crosses a kink at ~40% of the points of this
    /// tiny net (the central difference then mixes two slopes); at 1e-4, 86%: 80% must agree.
    @Test func mostPointsMatchFiniteDifferencesWithDeadUnits() throws {
        Parallel.configure(threads: 1)
        let f = try Self.fixture(seed: 5)
        let results = Self.agreement(f, step: 1e-4, tolerance: 2e-2)
        let agreeing = results.reduce(0) { $0 + $1.agreeing }, total = results.reduce(0) { $0 + $1.points }
        #expect(Double(agreeing) >= 0.8 * Double(total), "only \(agreeing) of \(total) points agree: \(results)")
    }

    @Test func parallelPartsGiveTheSameLossAndGradients() throws {
        func run(threads: Int) throws -> (Float, [Float]) {
            try Parallel.withThreads(threads) {
                let f = try Self.fixture(seed: 8)
                let loss = f.loss()
                return (loss.total, Array(f.net.parameters.gradients.buffer))
            }
        }
        let (l1, g1) = try run(threads: 1), (l2, g2) = try run(threads: 2)
        #expect(abs(l1 - l2) < 1e-6)
        let worst = zip(g1, g2).map { abs($0 - $1) }.max() ?? 0
        #expect(worst < 1e-5, "gradients differ by \(worst) between 1 and 2 threads")
    }

    @Test func standardShapeHasTheParameterCountOfTheSpec() throws {
        let specs = UNetParameters.specs(for: .standard)
        let count = specs.reduce(0) { $0 + $1.shape.reduce(1, *) }
        // 16-32-64-128, bottleneck 256, up levels concat (deeper + skip); about 1.9 M parameters.
        #expect(specs.count == 2 * (2 * 4 + 2 + 2 * 4) + 2)
        #expect(count > 1_800_000 && count < 2_100_000, "\(count) parameters")
        #expect(throws: UNetError.self) { try UNetConfig.standard.checkInput(width: 100, height: 96) }
        #expect(throws: UNetError.self) { try UNetConfig.standard.checkInput(width: 8, height: 16) }
        try UNetConfig.standard.checkInput(width: 512, height: 496)
    }
}
