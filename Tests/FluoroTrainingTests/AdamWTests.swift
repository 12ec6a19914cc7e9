import Foundation
import FluoroTensor
import Testing
@testable import FluoroTraining

@Suite struct AdamWTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../FluoroModelTests/Fixtures/fimae_sc_tiny_seed0.safetensors").standardized

    /// Every parameter of the tiny model laid out in one arena, with PyTorch's decay group.
    struct Arena {
        var names: [String] = []
        var ranges: [Range<Int>] = []
        var parameters: [Float] = []
        var gradients: [Float] = []
        var expected: [Float] = []
        var decayRanges: [Range<Int>] = []
    }

    static func loadArena() throws -> Arena {
        let file = try SafetensorsFile(contentsOf: fixture)
        var arena = Arena()
        let names = file.entries.keys.filter { $0.hasPrefix("param.") }.map { String($0.dropFirst(6)) }.sorted()
        for name in names {
            let shape = try file.entry("param.\(name)").shape
            let p = try file.floats("param.\(name)")
            let g = try file.floats("grad.\(name)", shape: shape)
            let a = try file.floats("after_adamw.\(name)", shape: shape)
            let range = arena.parameters.count..<(arena.parameters.count + p.count)
            arena.names.append(name); arena.ranges.append(range)
            arena.parameters += p; arena.gradients += g; arena.expected += a
            // torch: decay = p.dim() > 1 and "mask_token" not in name
            if shape.count > 1 && !name.contains("mask_token") { arena.decayRanges.append(range) }
        }
        return arena
    }

    /// One step with lr 1e-3 reproduces torch.optim.AdamW's parameters to 1e-6 (absolute).
    @Test(arguments: [1, 2])
    func matchesPyTorchAfterOneStep(threads: Int) throws {
        let arena = try Self.loadArena()
        #expect(arena.names.count == 67)
        #expect(arena.decayRanges.count > 0 && arena.decayRanges.count < arena.names.count)
        let file = try SafetensorsFile(contentsOf: Self.fixture)
        let config = try #require(file.metadata["config"])
        let lr = try #require((try JSONSerialization.jsonObject(with: Data(config.utf8)) as? [String: Any])?["lr"] as? Double)
        #expect(lr == 1e-3)
        var p = arena.parameters
        let optimizer = AdamW(count: p.count, threads: threads)
        optimizer.step(parameters: &p, gradients: arena.gradients, decayRanges: arena.decayRanges, learningRate: Float(lr))
        #expect(optimizer.step == 1)
        var worst: (error: Float, name: String) = (0, "")
        for (name, range) in zip(arena.names, arena.ranges) {
            for i in range {
                let e = abs(p[i] - arena.expected[i])
                if e > worst.error { worst = (e, name) }
            }
        }
        #expect(worst.error <= 1e-6, "largest difference \(worst.error) in \(worst.name)")
        // The step really moved the parameters (the check above is not vacuous).
        let moved = zip(arena.parameters, p).map { abs($0 - $1) }.max() ?? 0
        #expect(moved > 1e-4)
    }

    /// Weight decay must matter for the fixture: decaying everything, or nothing, misses it.
    @Test func wrongDecayGroupIsDetected() throws {
        let arena = try Self.loadArena()
        for ranges in [[], [0..<arena.parameters.count]] as [[Range<Int>]] {
            var p = arena.parameters
            AdamW(count: p.count).step(parameters: &p, gradients: arena.gradients, decayRanges: ranges, learningRate: 1e-3)
            let worst = zip(p, arena.expected).map { abs($0 - $1) }.max() ?? 0
            #expect(worst > 1e-6)
        }
    }

    /// A Double-precision AdamW written from the paper's equations (Loshchilov & Hutter, with
    /// torch's placement of eps after the bias correction of sqrt(v)).
    static func referenceAdamW(p: inout [Double], grads: [[Double]], decay: [Bool], rates: [Double],
                               beta1: Double = 0.9, beta2: Double = 0.95, eps: Double = 1e-8, wd: Double = 0.05) {
        var m = [Double](repeating: 0, count: p.count), v = m
        for (t, (g, lr)) in zip(grads, rates).enumerated() {
            let step = Double(t + 1)
            for i in p.indices {
                if decay[i] { p[i] -= lr * wd * p[i] }
                m[i] = beta1 * m[i] + (1 - beta1) * g[i]
                v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i]
                let mHat = m[i] / (1 - pow(beta1, step))
                let vHat = v[i] / (1 - pow(beta2, step))
                p[i] -= lr * mHat / (vHat.squareRoot() + eps)
            }
        }
    }

    /// Five steps with varying gradients and rates, on 53 values (SIMD body and scalar tail),
    /// with decay on two ranges: matches the Double reference to 1e-5 relative.
    @Test(arguments: [1, 2])
    func multiStepMatchesDoubleReference(threads: Int) {
        let n = 53
        var seed: UInt64 = 0x9E3779B97F4A7C15
        func next() -> Double {  // xorshift, deterministic
            seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17
            return Double(seed % 2_000_001) / 1_000_000 - 1
        }
        let initial = (0..<n).map { _ in next() }
        let grads = (0..<5).map { _ in (0..<n).map { _ in next() * 0.5 } }
        let rates = [1e-2, 5e-3, 2e-2, 1e-3, 3e-2]
        let decayRanges = [3..<20, 40..<47]
        let decay = (0..<n).map { i in decayRanges.contains { $0.contains(i) } }
        var reference = initial
        Self.referenceAdamW(p: &reference, grads: grads, decay: decay, rates: rates)
        var p = initial.map(Float.init)
        let optimizer = AdamW(count: n, threads: threads)
        for (g, lr) in zip(grads, rates) {
            optimizer.step(parameters: &p, gradients: g.map(Float.init), decayRanges: decayRanges, learningRate: Float(lr))
        }
        #expect(optimizer.step == 5)
        for i in 0..<n {
            let e = abs(Double(p[i]) - reference[i])
            #expect(e <= 1e-5 * max(1, abs(reference[i])), "index \(i): \(p[i]) vs \(reference[i])")
        }
        // Without decay the result differs from the decayed reference, and matches its own.
        var plain = initial
        Self.referenceAdamW(p: &plain, grads: grads, decay: decay, rates: rates, wd: 0)
        var q = initial.map(Float.init)
        let noDecay = AdamW(count: n, hyperparameters: .init(weightDecay: 0), threads: threads)
        for (g, lr) in zip(grads, rates) {
            noDecay.step(parameters: &q, gradients: g.map(Float.init), decayRanges: decayRanges, learningRate: Float(lr))
        }
        for i in 0..<n { #expect(abs(Double(q[i]) - plain[i]) <= 1e-5 * max(1, abs(plain[i]))) }
        #expect(abs(Double(q[5]) - reference[5]) > 1e-6)
    }

    /// A large arena (split over threads, SIMD pieces) gives the same bits on 1 and 2 threads.
    @Test func threadCountDoesNotChangeTheResult() {
        let n = 200_003
        let g = (0..<n).map { Float(sin(Double($0) * 0.37)) }
        let p0 = (0..<n).map { Float(cos(Double($0) * 0.11)) }
        var a = p0, b = p0
        let one = AdamW(count: n, threads: 1), two = AdamW(count: n, threads: 2)
        for _ in 0..<3 {
            one.step(parameters: &a, gradients: g, decayRanges: [1000..<150_001], learningRate: 1e-3)
            two.step(parameters: &b, gradients: g, decayRanges: [1000..<150_001], learningRate: 1e-3)
        }
        #expect(a == b)
        #expect(a != p0)
    }

    /// The gradient scale is the same as scaling the gradients first.
    @Test func gradientScaleEqualsPrescaledGradients() {
        let g: [Float] = (0..<37).map { Float($0) * 0.25 - 4 }
        var a: [Float] = (0..<37).map { Float($0) * 0.01 }, b = a
        AdamW(count: 37).step(parameters: &a, gradients: g, decayRanges: [0..<10], learningRate: 0.1, gradientScale: 0.5)
        AdamW(count: 37).step(parameters: &b, gradients: g.map { $0 * 0.5 }, decayRanges: [0..<10], learningRate: 0.1)
        #expect(a == b)
    }

    /// Saving and restoring state continues the same trajectory.
    @Test func stateRoundTripContinuesIdentically() throws {
        let n = 41
        let g1: [Float] = (0..<n).map { Float($0 % 7) - 3 }, g2: [Float] = (0..<n).map { Float($0 % 5) * 0.3 }
        var p: [Float] = (0..<n).map { Float($0) * 0.1 }
        let original = AdamW(count: n)
        original.step(parameters: &p, gradients: g1, decayRanges: [0..<20], learningRate: 1e-2)
        let saved = original.state
        #expect(saved.step == 1 && saved.m.contains { $0 != 0 })
        var q = p
        original.step(parameters: &p, gradients: g2, decayRanges: [0..<20], learningRate: 1e-2)
        let restored = AdamW(count: n)
        try restored.load(saved)
        restored.step(parameters: &q, gradients: g2, decayRanges: [0..<20], learningRate: 1e-2)
        #expect(p == q)
        #expect(restored.state == original.state)
        #expect(throws: AdamWError.self) { try AdamW(count: n + 1).load(saved) }
    }

    @Test func segmentsCoverEverythingInOrder() {
        let s = AdamW.segments(count: 10, decayRanges: [6..<8, 0..<2, 7..<9, 12..<20])
        #expect(s.map { $0.0 } == [0..<2, 2..<6, 6..<8, 8..<9, 9..<10])
        #expect(s.map { $0.1 } == [true, false, true, true, false])
    }
}
