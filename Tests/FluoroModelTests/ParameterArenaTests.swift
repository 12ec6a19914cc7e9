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
        #expect(token.allSatisfy { abs($0) <= 0.04 } && token.contains { $0 != 0 })
        let again = ParameterArena(specs: FIMAESCParameters.specs(for: .tiny))
        again.initialize(seed: 42)
        #expect(again.values.array == arena.values.array, "one seed, one model")
        again.initialize(seed: 43)
        #expect(again.values.array != arena.values.array)
    }
}
