import FluoroTensor

/// One FIMAE-SC decoder: the visible tokens scattered among mask tokens + decoder positions,
/// the decoder blocks, LayerNorm and a linear head to tt*p*p values per token. Owns its activations.
final class DecoderPass {
    let B: Int, N: Int, Nv: Int, Dd: Int, V: Int, depth: Int
    let shape: TransformerBlock.Shape
    let eps: Float
    let maskToken, normWeight, normBias, headWeight, headBias: UnsafeMutablePointer<Float>
    let dMaskToken, dNormWeight, dNormBias, dHeadWeight, dHeadBias: UnsafeMutablePointer<Float>
    let blocks: [TransformerBlock.Weights], dBlocks: [TransformerBlock.Weights]
    let positions: FloatBuffer            // [N, Dd]
    let streams: [FloatBuffer]            // depth+1 × [B*N, Dd]
    let acts: [TransformerBlock.Activations]
    let scratch: TransformerBlock.Scratch // shared with the other decoder
    let normOut, mean, rstd: FloatBuffer  // [B*N, Dd], [B*N], [B*N]
    let pred, dPred: FloatBuffer          // [B*N, V]
    let dNorm, dStream: FloatBuffer       // [B*N, Dd]

    static func blockShape(_ c: ModelConfig, _ batch: Int) -> TransformerBlock.Shape {
        TransformerBlock.Shape(batch: batch, tokens: c.tokens, width: c.decoderWidth, heads: c.decoderHeads, mlpRatio: c.mlpRatio)
    }

    init(config c: ModelConfig, batch: Int, arena: ParameterArena, prefix: String, maskToken token: String,
         scratch: TransformerBlock.Scratch) {
        B = batch; N = c.tokens; Nv = c.visibleTokens; Dd = c.decoderWidth; V = c.tokenValues
        depth = c.decoderDepth; eps = c.layerNormEps
        shape = Self.blockShape(c, batch)
        maskToken = arena.value(token); dMaskToken = arena.gradient(token)
        normWeight = arena.value(prefix + ".norm.weight"); dNormWeight = arena.gradient(prefix + ".norm.weight")
        normBias = arena.value(prefix + ".norm.bias"); dNormBias = arena.gradient(prefix + ".norm.bias")
        headWeight = arena.value(prefix + ".head.weight"); dHeadWeight = arena.gradient(prefix + ".head.weight")
        headBias = arena.value(prefix + ".head.bias"); dHeadBias = arena.gradient(prefix + ".head.bias")
        blocks = (0..<depth).map { FIMAESCParameters.block("\(prefix).blocks.\($0)", in: arena) }
        dBlocks = (0..<depth).map { FIMAESCParameters.block("\(prefix).blocks.\($0)", in: arena, gradients: true) }
        let M = B * N
        positions = FloatBuffer(PositionTable.sinCos(positions: N, width: Dd))
        let rowWidth = c.decoderWidth
        streams = (0...c.decoderDepth).map { _ in FloatBuffer(count: M * rowWidth) }
        var blockActs: [TransformerBlock.Activations] = []
        for _ in 0..<depth { blockActs.append(TransformerBlock.Activations(shape)) }
        acts = blockActs
        self.scratch = scratch
        normOut = FloatBuffer(count: M * Dd); mean = FloatBuffer(count: M); rstd = FloatBuffer(count: M)
        pred = FloatBuffer(count: M * V); dPred = FloatBuffer(count: M * V)
        dNorm = FloatBuffer(count: M * Dd); dStream = FloatBuffer(count: M * Dd)
    }

    /// pred: [B*N, V] from z: [B*Nv, Dd] and the visible indices [B, Nv].
    func forward(z: UnsafePointer<Float>, visible: UnsafePointer<Int32>) -> UnsafePointer<Float> {
        let M = B * N
        let x0 = streams[0].pointer
        Tokens.scatter(full: x0, z, index: visible, fill: maskToken, batch: B, tokens: N, selected: Nv, channels: Dd)
        for r in 0..<M {
            let row = x0 + r * Dd, pos = positions.pointer + (r % N) * Dd
            for j in 0..<Dd { row[j] += pos[j] }
        }
        for l in 0..<depth {
            TransformerBlock.forward(out: streams[l + 1].pointer, acts: acts[l], input: streams[l].pointer,
                                     weights: blocks[l], shape: shape, eps: eps)
        }
        LayerNorm.forward(out: normOut.pointer, mean: mean.pointer, rstd: rstd.pointer, input: streams[depth].pointer,
                          weight: normWeight, bias: normBias, rows: M, channels: Dd, eps: eps)
        Linear.forward(out: pred.pointer, input: normOut.pointer, weight: headWeight, bias: headBias,
                       rows: M, inFeatures: Dd, outFeatures: V)
        return UnsafePointer(pred.pointer)
    }

    /// Adds this decoder's gradients (from `dPred`, filled by the loss) and dz: [B*Nv, Dd].
    func backward(dz: UnsafeMutablePointer<Float>, visible: UnsafePointer<Int32>, hidden: UnsafePointer<Int32>) {
        let M = B * N
        Linear.backward(dInput: dNorm.pointer, dWeight: dHeadWeight, dBias: dHeadBias, dOut: dPred.pointer,
                        input: normOut.pointer, weight: headWeight, rows: M, inFeatures: Dd, outFeatures: V, overwriteInput: true)
        LayerNorm.backward(dInput: dStream.pointer, dWeight: dNormWeight, dBias: dNormBias, dOut: dNorm.pointer,
                           input: streams[depth].pointer, weight: normWeight, mean: mean.pointer, rstd: rstd.pointer,
                           rows: M, channels: Dd, overwriteInput: true)
        for l in stride(from: depth - 1, through: 0, by: -1) {
            TransformerBlock.backward(dStream: dStream.pointer, grads: dBlocks[l], input: streams[l].pointer,
                                      weights: blocks[l], acts: acts[l], scratch: scratch, shape: shape)
        }
        Tokens.scatterBackward(dX: dz, dFill: dMaskToken, dFull: dStream.pointer, index: visible, complement: hidden,
                               batch: B, tokens: N, selected: Nv, channels: Dd)
    }
}
