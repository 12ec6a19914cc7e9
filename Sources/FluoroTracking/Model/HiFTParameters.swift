import FluoroModel
import Foundation
import FluoroTensor

/// HiFT's parameter list with the reference's names (`encoder.*` VideoMAE names, `correlation.*`,
/// `decoder.blocks.{i}.…`, `heatmap_head.*`, `catheter_head.*`), and the detector's
/// (`encoder.*`, `detector_head.*`). Weight decay on matrices and conv kernels, not on biases,
/// norms or the correlation embeddings (the reference's optimizer groups).
public enum HiFTParameters {
    /// Every tracker parameter for `config`.
    public static func specs(for c: HiFTConfig) -> [ParameterArena.Spec] {
        var specs = encoder(c.encoderConfig)
        let D = c.width
        func embedding(_ name: String, _ rows: Int) {
            specs.append(.init(name: "correlation." + name, shape: [rows, D], decays: false, initialization: .truncatedNormal(std: 0.02)))
        }
        embedding("traj_x", c.trajectoryBins + 1)  // row G: no estimate
        embedding("traj_y", c.trajectoryBins + 1)
        embedding("landmark", c.landmarks)
        embedding("age", c.window - 1)             // frames back, 1..W-1
        embedding("cell", HiFTConfig.appearanceSide * HiFTConfig.appearanceSide)
        embedding("kind", 2)                       // 0 appearance, 1 trajectory
        for i in 0..<c.decoderDepth { specs += decoderBlock("decoder.blocks.\(i)", D, hidden: c.mlpRatio * D) }
        specs += norm("decoder.norm", D)
        specs += head("heatmap_head", c)
        specs += head("catheter_head", c)
        return specs
    }

    /// `trajectoryPositionInit`: rows 0..<G of `traj_x` hold the sin-cos code of their bin in the first
    /// half of the width (zeros in the second), `traj_y`'s in the second half; row G (no estimate) stays.
    public static func initializeTrajectoryPositions(in arena: ParameterArena, config c: HiFTConfig) {
        let D = c.width, half = D / 2, G = c.trajectoryBins
        let code = PositionTable.sinCos(positions: G, width: half)  // [G, D/2]
        for (name, offset) in [("correlation.traj_x", 0), ("correlation.traj_y", half)] {
            let rows = arena.value(name)  // [G+1, D]
            for q in 0..<G {
                for j in 0..<D { rows[q * D + j] = 0 }
                for j in 0..<half { rows[q * D + offset + j] = code[q * half + j] }
            }
        }
    }

    /// `queryPositionCodes`: per query cell (row-major over the g x g grid) the code
    /// `initializeTrajectoryPositions` gives the bin of the cell's centre, floor((i + 0.5)·G/g) per
    /// axis: x's code in the first half of the width, y's in the second. [g², D].
    public static func queryPositionCodes(config c: HiFTConfig) -> [Float] {
        let D = c.width, half = D / 2, G = c.trajectoryBins, g = c.grid
        let code = PositionTable.sinCos(positions: G, width: half)  // [G, D/2]
        func bin(_ i: Int) -> Int { min(G - 1, Int((Double(i) + 0.5) * Double(G) / Double(g))) }
        var out = [Float](repeating: 0, count: g * g * D)
        for cy in 0..<g {
            for cx in 0..<g {
                let row = (cy * g + cx) * D, qx = bin(cx), qy = bin(cy)
                for j in 0..<half {
                    out[row + j] = code[qx * half + j]
                    out[row + half + j] = code[qy * half + j]
                }
            }
        }
        return out
    }

    /// The detector's parameters: its own encoder (one slot) and `detector_head.*`.
    public static func detectorSpecs(for c: HiFTConfig) -> [ParameterArena.Spec] {
        encoder(c.detectorEncoderConfig) + head("detector_head", c)
    }

    /// The encoder's views, initialised as the reference initialises a tracker from scratch
    /// (xavier matrices, unit norm weights, normal(0.02) biases).
    static func encoder(_ e: ModelConfig) -> [ParameterArena.Spec] {
        ViTEncoder.specs(for: e).map { s in
            var s = s
            if s.shape.count == 1 && !(s.name.contains("norm") && s.name.hasSuffix(".weight")) {
                s.initialization = .truncatedNormal(std: 0.02)
            }
            return s
        }
    }

    static func norm(_ prefix: String, _ d: Int) -> [ParameterArena.Spec] {
        [.init(name: prefix + ".weight", shape: [d], decays: false, initialization: .ones),
         .init(name: prefix + ".bias", shape: [d], decays: false, initialization: .truncatedNormal(std: 0.02))]
    }

    static func bias(_ name: String, _ n: Int) -> ParameterArena.Spec {
        .init(name: name, shape: [n], decays: false, initialization: .truncatedNormal(std: 0.02))
    }

    static func matrix(_ name: String, _ shape: [Int]) -> ParameterArena.Spec {
        .init(name: name, shape: shape, decays: true, initialization: .xavierUniform)
    }

    /// One cross-attention decoder block: norm_q, norm_kv, cross_attn (q, q_bias, kv, v_bias, proj), norm2, mlp.
    static func decoderBlock(_ p: String, _ D: Int, hidden: Int) -> [ParameterArena.Spec] {
        norm(p + ".norm_q", D) + norm(p + ".norm_kv", D) + [
            bias(p + ".cross_attn.q_bias", D), bias(p + ".cross_attn.v_bias", D),
            matrix(p + ".cross_attn.q.weight", [D, D]), matrix(p + ".cross_attn.kv.weight", [2 * D, D]),
            matrix(p + ".cross_attn.proj.weight", [D, D]), bias(p + ".cross_attn.proj.bias", D),
        ] + norm(p + ".norm2", D) + [
            matrix(p + ".mlp.fc1.weight", [hidden, D]), bias(p + ".mlp.fc1.bias", hidden),
            matrix(p + ".mlp.fc2.weight", [D, hidden]), bias(p + ".mlp.fc2.bias", D),
        ]
    }

    /// A CNN head: convs.{i} (3x3: D -> C0, then C(i-1) -> Ci, + 1 input channel with `headImageSkip`)
    /// and out (1x1: C_last -> 1).
    static func head(_ p: String, _ c: HiFTConfig) -> [ParameterArena.Spec] {
        var specs: [ParameterArena.Spec] = []
        var inChannels = c.width
        for (i, out) in c.headChannels.enumerated() {
            let extra = i > 0 && c.headImageSkip == true ? 1 : 0
            specs += [matrix("\(p).convs.\(i).weight", [out, inChannels + extra, 3, 3]), bias("\(p).convs.\(i).bias", out)]
            inChannels = out
        }
        // The output bias starts at the logit of a 1% prior (as detection heads do), so the first
        // heatmaps are near zero and the soft Dice's gradient is about the targets from the start;
        // at 0 (p = 0.5 on every pixel) a σ = 2 px target is lost in a 128x128 map for many steps.
        return specs + [matrix("\(p).out.weight", [1, inChannels, 1, 1]),
                        .init(name: "\(p).out.bias", shape: [1], decays: false, initialization: .constant(HiFTParameters.priorLogit))]
    }

    /// logit(0.01): the heads' initial output bias.
    public static let priorLogit = Float(log(0.01 / 0.99))

    /// A decoder block's pointers inside `arena` (values, or gradients).
    static func block(_ p: String, in arena: ParameterArena, gradients: Bool = false) -> CrossAttentionBlock.Weights {
        func v(_ s: String) -> UnsafeMutablePointer<Float> { gradients ? arena.gradient(p + s) : arena.value(p + s) }
        return CrossAttentionBlock.Weights(
            normQWeight: v(".norm_q.weight"), normQBias: v(".norm_q.bias"),
            normKvWeight: v(".norm_kv.weight"), normKvBias: v(".norm_kv.bias"),
            attention: CrossAttention.Weights(q: v(".cross_attn.q.weight"), kv: v(".cross_attn.kv.weight"),
                                              qBias: v(".cross_attn.q_bias"), vBias: v(".cross_attn.v_bias"),
                                              projWeight: v(".cross_attn.proj.weight"), projBias: v(".cross_attn.proj.bias")),
            norm2Weight: v(".norm2.weight"), norm2Bias: v(".norm2.bias"),
            fc1Weight: v(".mlp.fc1.weight"), fc1Bias: v(".mlp.fc1.bias"),
            fc2Weight: v(".mlp.fc2.weight"), fc2Bias: v(".mlp.fc2.bias"))
    }
}
