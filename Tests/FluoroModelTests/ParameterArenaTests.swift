import Testing
import FluoroTensor
@testable import FluoroModel

/// The parameter arena: layout, weight-decay flags and the seeded initialisation (METHOD §7).
@Suite struct ParameterArenaTests {
    let arena = ParameterArena(specs: FIMAESCParameters.specs(for: .tiny))

    @Test func viewsAreDisjointAndAligned() {
        var end = 0
        for v in arena.views {
            #expect(v.offset >= end && v.offset % 16 == 0, "\(v.name) at \(v.offset)")
            end = v.offset + v.count
        }
        #expect(end <= arena.values.count && arena.gradients.count == arena.values.count)
    }

    @Test func weightDecayOnlyOnMatrices() {
        #expect(arena["encoder.blocks.0.attn.qkv.weight"]?.decays == true)
        #expect(arena["encoder.patch_embed.proj.weight"]?.decays == true)
        #expect(arena["encoder_to_decoder.weight"]?.decays == true)
        for name in ["encoder.blocks.0.attn.q_bias", "encoder.blocks.0.attn.v_bias", "encoder.norm.weight",
                     "decoder.head.bias", "mask_token", "vessel_mask_token", "encoder.blocks.1.norm2.bias"] {
            #expect(arena[name]?.decays == false, "\(name) must not decay")
        }
    }

    @Test func initialisationFollowsTheMethod() {
        arena.initialize(seed: 42)
        let qkv = arena.valueArray("encoder.blocks.0.attn.qkv.weight")       // [96, 32]
        let bound = Float((6.0 / Double(96 + 32)).squareRoot())
        #expect(qkv.allSatisfy { abs($0) <= bound } && (qkv.map { abs($0) }.max() ?? 0) > 0.9 * bound)
        let patch = arena.valueArray("encoder.patch_embed.proj.weight")      // [32, 1, 2, 8, 8]: fan_in 128
        let patchBound = Float((6.0 / Double(128 + 32)).squareRoot())
        #expect(patch.allSatisfy { abs($0) <= patchBound } && (patch.map { abs($0) }.max() ?? 0) > 0.9 * patchBound)
        #expect(arena.valueArray("encoder.norm.weight").allSatisfy { $0 == 1 })
        #expect(arena.valueArray("encoder.blocks.0.mlp.fc1.bias").allSatisfy { $0 == 0 })
        #expect(arena.valueArray("encoder.blocks.0.attn.q_bias").allSatisfy { $0 == 0 })
        let token = arena.valueArray("mask_token")
        #expect(token.allSatisfy { abs($0) <= 2 } && token.contains { $0 != 0 })
        // trunc_normal_(std=0.02) as torch/VideoMAE use it: cut at ±2 absolute, so the std stays 0.02.
        let big = ParameterArena(specs: [.init(name: "t", shape: [1, 1, 20_000], decays: false, initialization: .truncatedNormal(std: 0.02))])
        big.initialize(seed: 5)
        let values = big.valueArray("t").map(Double.init)
        let std = (values.map { $0 * $0 }.reduce(0, +) / Double(values.count)).squareRoot()
        #expect(abs(std - 0.02) < 0.0006, "std \(std)")
        let again = ParameterArena(specs: FIMAESCParameters.specs(for: .tiny))
        again.initialize(seed: 42)
        #expect(again.values.array == arena.values.array, "one seed, one model")
        again.initialize(seed: 43)
        #expect(again.values.array != arena.values.array)
    }
}
