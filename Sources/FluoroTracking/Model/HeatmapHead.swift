import FluoroTensor

/// The CNN head (METHOD §10): tokens [B, g², D] as a map [B, D, g, g]; conv3x3(D→C0)+ReLU; per
/// x2 bilinear upsampling (align_corners=False) a conv3x3+ReLU (C1, C2, …); conv1x1 → one logit
/// per pixel [B, Sc, Sc]. The same shape serves the heatmap, the catheter-body and the detector
/// heads (`prefix` names the views). Owns its activations; backward adds into the arena's gradients.
final class HeatmapHead {
    let B: Int, D: Int, g: Int
    let channels: [Int]
    let convs: [Conv2D.Shape]          // 3x3 convs, stage i at side g·2^i
    let out: Conv2D.Shape               // 1x1 to one channel at side Sc
    let upsamples: [Upsample.Shape]     // before conv i (i ≥ 1)
    let weights: [UnsafeMutablePointer<Float>], biases: [UnsafeMutablePointer<Float>]
    let dWeights: [UnsafeMutablePointer<Float>], dBiases: [UnsafeMutablePointer<Float>]
    let outWeight, outBias, dOutWeight, dOutBias: UnsafeMutablePointer<Float>
    let map: FloatBuffer                // [B, D, g, g]
    let inputs: [FloatBuffer]           // conv i's input: map, then the upsampled maps [B, C(i-1), s, s]
    let activations: [FloatBuffer]      // conv i's output after ReLU [B, Ci, s, s]
    let logits: FloatBuffer             // [B, Sc, Sc]
    let workspace: FloatBuffer          // im2col columns, the largest conv's, one slot per parallel part
    let workspaces: Int
    let dInputs: [FloatBuffer], dActivations: [FloatBuffer], dPre: [FloatBuffer], dMap: FloatBuffer

    init(prefix: String, config c: HiFTConfig, batch: Int, arena: ParameterArena) {
        B = batch; D = c.width; g = c.grid; channels = c.headChannels
        var convs: [Conv2D.Shape] = [], ups: [Upsample.Shape] = []
        var inChannels = D, side = g
        for (i, ch) in channels.enumerated() {
            if i > 0 { ups.append(Upsample.Shape(batch: B, channels: inChannels, height: side, width: side)); side *= 2 }
            convs.append(Conv2D.Shape(batch: B, inChannels: inChannels, outChannels: ch, height: side, width: side, kernel: 3, padding: 1))
            inChannels = ch
        }
        self.convs = convs; upsamples = ups
        out = Conv2D.Shape(batch: B, inChannels: inChannels, outChannels: 1, height: side, width: side, kernel: 1)
        weights = channels.indices.map { arena.value("\(prefix).convs.\($0).weight") }
        biases = channels.indices.map { arena.value("\(prefix).convs.\($0).bias") }
        dWeights = channels.indices.map { arena.gradient("\(prefix).convs.\($0).weight") }
        dBiases = channels.indices.map { arena.gradient("\(prefix).convs.\($0).bias") }
        outWeight = arena.value("\(prefix).out.weight"); outBias = arena.value("\(prefix).out.bias")
        dOutWeight = arena.gradient("\(prefix).out.weight"); dOutBias = arena.gradient("\(prefix).out.bias")
        map = FloatBuffer(count: B * D * g * g)
        inputs = [map] + ups.map { FloatBuffer(count: $0.outputCount) }
        activations = convs.map { FloatBuffer(count: $0.outputCount) }
        logits = FloatBuffer(count: out.outputCount)
        workspaces = max(1, min(Parallel.threads, batch))
        workspace = FloatBuffer(count: (convs.map(\.workspaceCount).max() ?? 0) * workspaces)
        dInputs = inputs.map { FloatBuffer(count: $0.count) }
        dActivations = activations.map { FloatBuffer(count: $0.count) }
        dPre = activations.map { FloatBuffer(count: $0.count) }
        dMap = dInputs[0]
    }

    /// Logits [B, Sc, Sc] of tokens [B, g², D]. The buffer is reused by the next call.
    func forward(tokens: UnsafePointer<Float>) -> UnsafePointer<Float> {
        let n = g * g
        for b in 0..<B {  // [g², D] -> [D, g²]
            let src = tokens + b * n * D, dst = map.pointer + b * D * n
            for t in 0..<n { for d in 0..<D { dst[d * n + t] = src[t * D + d] } }
        }
        for i in convs.indices {
            if i > 0 { Upsample.bilinearForward(output: inputs[i].pointer, input: activations[i - 1].pointer, shape: upsamples[i - 1]) }
            Conv2D.forward(output: activations[i].pointer, input: inputs[i].pointer, weight: weights[i], bias: biases[i],
                           shape: convs[i], workspace: workspace.pointer, workspaces: workspaces, relu: true)
        }
        Conv2D.forward(output: logits.pointer, input: activations[convs.count - 1].pointer, weight: outWeight, bias: outBias,
                       shape: out, workspace: nil)
        return UnsafePointer(logits.pointer)
    }

    /// Adds every head gradient and dTokens [B, g², D] (added into), given dLogits [B, Sc, Sc].
    func backward(dLogits: UnsafePointer<Float>, dTokens: UnsafeMutablePointer<Float>) {
        let last = convs.count - 1
        dActivations[last].zero()
        Conv2D.backward(inputGradient: dActivations[last].pointer, weightGradient: dOutWeight, biasGradient: dOutBias,
                        outputGradient: dLogits, input: activations[last].pointer, weight: outWeight, shape: out, workspace: nil)
        for i in stride(from: last, through: 0, by: -1) {
            // dPre = dActivation where the ReLU passed (written, so the buffer needs no zeroing).
            let dp = dPre[i].pointer, da = dActivations[i].pointer, act = activations[i].pointer
            Parallel.chunks(dPre[i].count, minimumChunk: 1 << 15) { range in
                for j in range { dp[j] = act[j] > 0 ? da[j] : 0 }
            }
            dInputs[i].zero()
            Conv2D.backward(inputGradient: dInputs[i].pointer, weightGradient: dWeights[i], biasGradient: dBiases[i],
                            outputGradient: dPre[i].pointer, input: inputs[i].pointer, weight: weights[i], shape: convs[i],
                            workspace: workspace.pointer, workspaces: workspaces)
            if i > 0 {
                dActivations[i - 1].zero()
                Upsample.bilinearBackward(inputGradient: dActivations[i - 1].pointer, outputGradient: dInputs[i].pointer,
                                          shape: upsamples[i - 1])
            }
        }
        let n = g * g
        for b in 0..<B {  // [D, g²] -> [g², D]
            let src = dMap.pointer + b * D * n, dst = dTokens + b * n * D
            for t in 0..<n { for d in 0..<D { dst[t * D + d] += src[d * n + t] } }
        }
    }
}
