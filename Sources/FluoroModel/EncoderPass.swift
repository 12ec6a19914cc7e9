import FluoroTensor

/// The encoder half of FIMAE-SC: patch embedding + positions for the visible tokens, the
/// encoder blocks, the final LayerNorm and (for pretraining) the shared encoder→decoder map.
/// Owns its activations. `ViTEncoder` uses it over all tokens without the map.
final class EncoderPass {
    let B: Int, N: Int, Nv: Int, D: Int, Dd: Int, V: Int, depth: Int
    let shape: TransformerBlock.Shape
    let eps: Float
    // Weights and gradients (pointers into the arena).
    let patchWeight, patchBias, normWeight, normBias: UnsafeMutablePointer<Float>
    let dPatchWeight, dPatchBias, dNormWeight, dNormBias: UnsafeMutablePointer<Float>
    let toDecoder, dToDecoder: UnsafeMutablePointer<Float>?
    let blocks: [TransformerBlock.Weights], dBlocks: [TransformerBlock.Weights]
    // Activations.
    let positions: FloatBuffer        // [N, D]
    /// [B*Nv, V]: the gathered visible patches; made on the first forward that gathers (the
    /// tracker's encoder, whose every token is visible in order, never does).
    lazy var visiblePatches = FloatBuffer(count: B * Nv * V)
    var embedded: UnsafePointer<Float>?  // the last forward's patch-embedding input [B*Nv, V], for backward
    let streams: [FloatBuffer]        // depth+1 × [B*Nv, D]: the input of each block, then the output
    let acts: [TransformerBlock.Activations]
    let scratch: TransformerBlock.Scratch
    let normOut, mean, rstd: FloatBuffer  // [B*Nv, D], [B*Nv], [B*Nv]
    let z: FloatBuffer                // [B*Nv, Dd]
    let dNorm, dStream: FloatBuffer   // [B*Nv, D]

    /// `tokens`: tokens per clip it encodes (default: the config's visible tokens); `mapsToDecoder`:
    /// whether forward ends with encoder_to_decoder (pretraining) or at the final LayerNorm.
    init(config c: ModelConfig, batch: Int, arena: ParameterArena, tokens: Int? = nil, mapsToDecoder: Bool = true) {
        B = batch; N = c.tokens; Nv = tokens ?? c.visibleTokens; D = c.width; Dd = c.decoderWidth; V = c.tokenValues
        depth = c.depth; eps = c.layerNormEps
        shape = TransformerBlock.Shape(batch: B, tokens: Nv, width: D, heads: c.heads, mlpRatio: c.mlpRatio)
        patchWeight = arena.value("encoder.patch_embed.proj.weight"); dPatchWeight = arena.gradient("encoder.patch_embed.proj.weight")
        patchBias = arena.value("encoder.patch_embed.proj.bias"); dPatchBias = arena.gradient("encoder.patch_embed.proj.bias")
        normWeight = arena.value("encoder.norm.weight"); dNormWeight = arena.gradient("encoder.norm.weight")
        normBias = arena.value("encoder.norm.bias"); dNormBias = arena.gradient("encoder.norm.bias")
        toDecoder = mapsToDecoder ? arena.value("encoder_to_decoder.weight") : nil
        dToDecoder = mapsToDecoder ? arena.gradient("encoder_to_decoder.weight") : nil
        blocks = (0..<depth).map { FIMAESCParameters.block("encoder.blocks.\($0)", in: arena) }
        dBlocks = (0..<depth).map { FIMAESCParameters.block("encoder.blocks.\($0)", in: arena, gradients: true) }
        let M = B * Nv
        positions = FloatBuffer(PositionTable.sinCos(positions: N, width: D))
        let rowWidth = c.width
        streams = (0...c.depth).map { _ in FloatBuffer(count: M * rowWidth) }
        var blockActs: [TransformerBlock.Activations] = []
        for _ in 0..<depth { blockActs.append(TransformerBlock.Activations(shape)) }
        acts = blockActs
        scratch = TransformerBlock.Scratch(shape)
        normOut = FloatBuffer(count: M * D); mean = FloatBuffer(count: M); rstd = FloatBuffer(count: M)
        z = FloatBuffer(count: mapsToDecoder ? M * Dd : 0)
        dNorm = FloatBuffer(count: M * D); dStream = FloatBuffer(count: M * D)
    }

    /// z: [B*Nv, Dd] from patches: [B*N, V] and the visible indices [B, Nv]
    /// (without the encoder→decoder map: the final LayerNorm's output [B*Nv, D]). When `visible` is
    /// 0..<N for every clip (the tracker's encoder) the patches are embedded where they are, without
    /// a copy, and must then stay unchanged until `backward`.
    func forward(patches: UnsafePointer<Float>, visible: UnsafePointer<Int32>) -> UnsafePointer<Float> {
        let M = B * Nv
        if Nv == N && (0..<M).allSatisfy({ visible[$0] == Int32($0 % N) }) {
            embedded = patches
        } else {
            Tokens.gather(out: visiblePatches.pointer, patches, index: visible, batch: B, tokens: N, selected: Nv, channels: V)
            embedded = UnsafePointer(visiblePatches.pointer)
        }
        let x0 = streams[0].pointer
        Linear.forward(out: x0, input: embedded!, weight: patchWeight, bias: patchBias,
                       rows: M, inFeatures: V, outFeatures: D)
        for r in 0..<M {
            let row = x0 + r * D, pos = positions.pointer + Int(visible[r]) * D
            for j in 0..<D { row[j] += pos[j] }
        }
        for l in 0..<depth {
            TransformerBlock.forward(out: streams[l + 1].pointer, acts: acts[l], input: streams[l].pointer,
                                     weights: blocks[l], shape: shape, eps: eps)
        }
        LayerNorm.forward(out: normOut.pointer, mean: mean.pointer, rstd: rstd.pointer, input: streams[depth].pointer,
                          weight: normWeight, bias: normBias, rows: M, channels: D, eps: eps)
        guard let toDecoder else { return UnsafePointer(normOut.pointer) }
        Linear.forward(out: z.pointer, input: normOut.pointer, weight: toDecoder, bias: nil, rows: M, inFeatures: D, outFeatures: Dd)
        return UnsafePointer(z.pointer)
    }

    /// Adds every encoder gradient, given dz: [B*Nv, Dd].
    func backward(dz: UnsafePointer<Float>) {
        guard let toDecoder, let dToDecoder else { preconditionFailure("EncoderPass: no encoder_to_decoder map") }
        Linear.backward(dInput: dNorm.pointer, dWeight: dToDecoder, dBias: nil, dOut: dz, input: normOut.pointer,
                        weight: toDecoder, rows: B * Nv, inFeatures: D, outFeatures: Dd, overwriteInput: true)
        backward(dNormOut: dNorm.pointer)
    }

    /// Adds every encoder gradient below the final LayerNorm, given its output's gradient [B*Nv, D].
    func backward(dNormOut: UnsafePointer<Float>) {
        let M = B * Nv
        LayerNorm.backward(dInput: dStream.pointer, dWeight: dNormWeight, dBias: dNormBias, dOut: dNormOut,
                           input: streams[depth].pointer, weight: normWeight, mean: mean.pointer, rstd: rstd.pointer,
                           rows: M, channels: D, overwriteInput: true)
        for l in stride(from: depth - 1, through: 0, by: -1) {
            TransformerBlock.backward(dStream: dStream.pointer, grads: dBlocks[l], input: streams[l].pointer,
                                      weights: blocks[l], acts: acts[l], scratch: scratch, shape: shape)
        }
        Linear.backward(dInput: nil, dWeight: dPatchWeight, dBias: dPatchBias, dOut: dStream.pointer,
                        input: embedded!, weight: patchWeight, rows: M, inFeatures: V, outFeatures: D)
    }
}
