import FluoroTensor

/// FIMAE-SC's parameter list with VideoMAE's names (METHOD §8), in PyTorch's `named_parameters()` order.
public enum FIMAESCParameters {
    /// Every parameter of the model for `config`: name, shape, weight decay and initialisation.
    public static func specs(for c: ModelConfig) -> [ParameterArena.Spec] {
        var specs: [ParameterArena.Spec] = []
        func matrix(_ name: String, _ shape: [Int]) {
            specs.append(.init(name: name, shape: shape, decays: true, initialization: .xavierUniform))
        }
        func vector(_ name: String, _ n: Int, ones: Bool = false) {
            specs.append(.init(name: name, shape: [n], decays: false, initialization: ones ? .ones : .zeros))
        }
        func norm(_ prefix: String, _ d: Int) {
            vector(prefix + ".weight", d, ones: true)
            vector(prefix + ".bias", d)
        }
        func block(_ prefix: String, _ d: Int) {
            norm(prefix + ".norm1", d)
            vector(prefix + ".attn.q_bias", d)
            vector(prefix + ".attn.v_bias", d)
            matrix(prefix + ".attn.qkv.weight", [3 * d, d])
            matrix(prefix + ".attn.proj.weight", [d, d])
            vector(prefix + ".attn.proj.bias", d)
            norm(prefix + ".norm2", d)
            matrix(prefix + ".mlp.fc1.weight", [c.mlpRatio * d, d])
            vector(prefix + ".mlp.fc1.bias", c.mlpRatio * d)
            matrix(prefix + ".mlp.fc2.weight", [d, c.mlpRatio * d])
            vector(prefix + ".mlp.fc2.bias", d)
        }
        for token in ["mask_token", "vessel_mask_token"] {
            specs.append(.init(name: token, shape: [1, 1, c.decoderWidth], decays: false,
                               initialization: .truncatedNormal(std: 0.02)))
        }
        matrix("encoder.patch_embed.proj.weight", [c.width, 1, c.tubelet, c.patch, c.patch])
        vector("encoder.patch_embed.proj.bias", c.width)
        for i in 0..<c.depth { block("encoder.blocks.\(i)", c.width) }
        norm("encoder.norm", c.width)
        matrix("encoder_to_decoder.weight", [c.decoderWidth, c.width])
        for decoder in ["decoder", "vessel_decoder"] {
            for i in 0..<c.decoderDepth { block("\(decoder).blocks.\(i)", c.decoderWidth) }
            norm("\(decoder).norm", c.decoderWidth)
            matrix("\(decoder).head.weight", [c.tokenValues, c.decoderWidth])
            vector("\(decoder).head.bias", c.tokenValues)
        }
        return specs
    }

    /// A transformer block's parameter pointers inside `arena` (values, or gradients when `gradients`).
    public static func block(_ prefix: String, in arena: ParameterArena, gradients: Bool = false) -> TransformerBlock.Weights {
        func p(_ suffix: String) -> UnsafeMutablePointer<Float> {
            gradients ? arena.gradient(prefix + suffix) : arena.value(prefix + suffix)
        }
        return TransformerBlock.Weights(
            norm1Weight: p(".norm1.weight"), norm1Bias: p(".norm1.bias"),
            attention: SelfAttention.Weights(qkv: p(".attn.qkv.weight"), qBias: p(".attn.q_bias"), vBias: p(".attn.v_bias"),
                                             projWeight: p(".attn.proj.weight"), projBias: p(".attn.proj.bias")),
            norm2Weight: p(".norm2.weight"), norm2Bias: p(".norm2.bias"),
            fc1Weight: p(".mlp.fc1.weight"), fc1Bias: p(".mlp.fc1.bias"),
            fc2Weight: p(".mlp.fc2.weight"), fc2Bias: p(".mlp.fc2.bias"))
    }
}
