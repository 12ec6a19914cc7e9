import FluoroTensor

/// The CNN head (METHOD §10): tokens [B, g², D] as a map [B, D, g, g]; conv3x3(D→C0)+ReLU; per
/// x2 bilinear upsampling (align_corners=False) a conv3x3+ReLU (C1, C2, …); conv1x1 → one logit
/// per pixel [B, Sc, Sc]. The same shape serves the heatmap, the catheter-body and the detector
/// heads (`prefix` names the views). Owns its activations; backward adds into the arena's gradients.
/// A call may run on fewer windows than the head was made for (`count`): the first `count` of
/// every buffer are used (the catheter head runs only on the windows that have a mask).
///
/// With `HiFTConfig.headImageSkip` (not METHOD §10) every conv after an upsampling also sees the
/// current frame average-pooled to its side as one more input channel, a U-Net-style skip: the
/// tokens say which landmark is near, the pixels say exactly where.
final class HeatmapHead {
    let B: Int, D: Int, g: Int, crop: Int
    let channels: [Int]
    let convs: [Conv2D.Shape]          // 3x3 convs, stage i at side g·2^i
    let out: Conv2D.Shape               // 1x1 to one channel at side Sc
    let upsamples: [Upsample.Shape]     // before conv i (i ≥ 1)
    let weights: [UnsafeMutablePointer<Float>], biases: [UnsafeMutablePointer<Float>]
    let dWeights: [UnsafeMutablePointer<Float>], dBiases: [UnsafeMutablePointer<Float>]
    let outWeight, outBias, dOutWeight, dOutBias: UnsafeMutablePointer<Float>
    let map: FloatBuffer                // [B, D, g, g]
    let inputs: [FloatBuffer]           // conv i's input: map, then the upsampled maps [B, C(i-1) (+1 frame), s, s]
    let activations: [FloatBuffer]      // conv i's output after ReLU [B, Ci, s, s]
    let logits: FloatBuffer             // [B, Sc, Sc]
    let workspace: FloatBuffer          // im2col columns, the largest conv's, one slot per parallel part
    let workspaces: Int
    let dInputs: [FloatBuffer], dActivations: [FloatBuffer], dPre: [FloatBuffer], dMap: FloatBuffer
    /// `headImageSkip`: inputs[i] is [B, C(i-1)+1, s, s], each window's upsampled map followed by its
    /// pooled frame, so the upsampling writes (and its backward reads) one window at a time.
    let skip: Bool
    /// Windows of the last forward (≤ B): the shapes below are for this many.
    private(set) var count: Int

    init(prefix: String, config c: HiFTConfig, batch: Int, arena: ParameterArena) {
        B = batch; D = c.width; g = c.grid; crop = c.crop; channels = c.headChannels; skip = c.headImageSkip == true
        var convs: [Conv2D.Shape] = [], ups: [Upsample.Shape] = []
        var inChannels = D, side = g
        for (i, ch) in channels.enumerated() {
            if i > 0 { ups.append(Upsample.Shape(batch: B, channels: inChannels, height: side, width: side)); side *= 2 }
            let extra = i > 0 && skip ? 1 : 0
            convs.append(Conv2D.Shape(batch: B, inChannels: inChannels + extra, outChannels: ch, height: side, width: side, kernel: 3, padding: 1))
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
        inputs = [map] + convs.dropFirst().map { FloatBuffer(count: $0.inputCount) }
        activations = convs.map { FloatBuffer(count: $0.outputCount) }
        logits = FloatBuffer(count: out.outputCount)
        workspaces = max(1, min(Parallel.threads, batch))
        workspace = FloatBuffer(count: (convs.map(\.workspaceCount).max() ?? 0) * workspaces)
        dInputs = inputs.map { FloatBuffer(count: $0.count) }
        dActivations = activations.map { FloatBuffer(count: $0.count) }
        dPre = activations.map { FloatBuffer(count: $0.count) }
        dMap = dInputs[0]
        count = B
    }

    /// Conv i's shape for the last forward's `count` windows.
    func conv(_ i: Int) -> Conv2D.Shape { var shape = convs[i]; shape.batch = count; return shape }
    /// The output conv's shape for `count` windows.
    var outConv: Conv2D.Shape { var shape = out; shape.batch = count; return shape }

    /// Logits [count, Sc, Sc] of tokens [count, g², D] (count ≤ B, default B); with `headImageSkip`,
    /// `frames` is the current frame [Sc, Sc] of window 0, the next window's `frameStride` floats
    /// on. The buffer is reused by the next call.
    func forward(tokens: UnsafePointer<Float>, count: Int? = nil, frames: UnsafePointer<Float>? = nil, frameStride: Int = 0)
        -> UnsafePointer<Float> {
        precondition(!skip || frames != nil, "HeatmapHead(headImageSkip): forward needs the current frames")
        self.count = count ?? B
        precondition((1...B).contains(self.count), "HeatmapHead: \(self.count) windows for a head made for \(B)")
        let n = g * g
        for b in 0..<self.count {  // [g², D] -> [D, g²]
            let src = tokens + b * n * D, dst = map.pointer + b * D * n
            for t in 0..<n { for d in 0..<D { dst[d * n + t] = src[t * D + d] } }
        }
        for i in convs.indices {
            if i > 0 {
                upsample(stage: i)
                if skip { poolFrame(stage: i, frames: frames!, frameStride: frameStride) }
            }
            Conv2D.forward(output: activations[i].pointer, input: inputs[i].pointer, weight: weights[i], bias: biases[i],
                           shape: conv(i), workspace: workspace.pointer, workspaces: workspaces, relu: true)
        }
        Conv2D.forward(output: logits.pointer, input: activations[convs.count - 1].pointer, weight: outWeight, bias: outBias,
                       shape: outConv, workspace: nil)
        return UnsafePointer(logits.pointer)
    }

    /// Adds every head gradient and dTokens [count, g², D] (added into), given dLogits [count, Sc, Sc]
    /// for the last forward's `count` windows.
    func backward(dLogits: UnsafePointer<Float>, dTokens: UnsafeMutablePointer<Float>) {
        let last = convs.count - 1
        outputBackward(dLogits: dLogits)
        for i in stride(from: last, through: 0, by: -1) {
            // dPre = dActivation where the ReLU passed (written, so the buffer needs no zeroing).
            let dp = dPre[i].pointer, da = dActivations[i].pointer, act = activations[i].pointer
            if i < last {
                Parallel.chunks(conv(i).outputCount, minimumChunk: 1 << 15) { range in
                    for j in range { dp[j] = act[j] > 0 ? da[j] : 0 }
                }
            }
            Conv2D.backward(inputGradient: dInputs[i].pointer, weightGradient: dWeights[i], biasGradient: dBiases[i],
                            outputGradient: dPre[i].pointer, input: inputs[i].pointer, weight: weights[i], shape: conv(i),
                            workspace: workspace.pointer, workspaces: workspaces, overwriteInputGradient: true)
            if i > 0 {
                dActivations[i - 1].pointer.update(repeating: 0, count: conv(i - 1).outputCount)
                upsampleBackward(stage: i)  // the frame channel's input gradient is not needed
            }
        }
        let n = g * g
        for b in 0..<count {  // [D, g²] -> [g², D]
            let src = dMap.pointer + b * D * n, dst = dTokens + b * n * D
            for t in 0..<n { for d in 0..<D { dst[t * D + d] += src[d * n + t] } }
        }
    }

    /// The 1x1 output conv's gradients and, through the last ReLU, dPre of the last stage in one
    /// pass: dPre[b, c] = w[c]·dLogits[b] where the activation passed; dw[c] += Σ dLogits·act[b, c];
    /// db += Σ dLogits. Threads take channels.
    func outputBackward(dLogits: UnsafePointer<Float>) {
        let last = convs.count - 1, C = channels[last], plane = crop * crop, n = count
        let act = activations[last].pointer, dp = dPre[last].pointer, w = outWeight, dw = dOutWeight
        Parallel.forEach(C) { c in
            var sum: Float = 0
            for b in 0..<n {
                let a = act + (b * C + c) * plane, d = dp + (b * C + c) * plane, g = dLogits + b * plane, wc = w[c]
                for j in 0..<plane { d[j] = a[j] > 0 ? wc * g[j] : 0 }
                sum += VectorMath.dot(g, a, plane)
            }
            dw[c] += sum
        }
        dOutBias[0] += VectorMath.sum(dLogits, n * plane)
    }

    /// The map channels of inputs[i] = activations[i-1] upsampled x2 (one call for the batch, or
    /// one per window when the frame channel follows each window's map).
    func upsample(stage i: Int) {
        let C = upsamples[i - 1].planes / B, side = upsamples[i - 1].height
        guard skip else {
            let all = Upsample.Shape(batch: count, channels: C, height: side, width: side)
            return Upsample.bilinearForward(output: inputs[i].pointer, input: activations[i - 1].pointer, shape: all)
        }
        let one = Upsample.Shape(batch: 1, channels: C, height: side, width: side)
        for b in 0..<count {
            Upsample.bilinearForward(output: inputs[i].pointer + b * (C + 1) * one.outHeight * one.outWidth,
                                     input: activations[i - 1].pointer + b * one.inputCount, shape: one)
        }
    }

    /// Adds the upsampling's gradient into dActivations[i-1] from the map channels of dInputs[i].
    func upsampleBackward(stage i: Int) {
        let C = upsamples[i - 1].planes / B, side = upsamples[i - 1].height
        guard skip else {
            let all = Upsample.Shape(batch: count, channels: C, height: side, width: side)
            return Upsample.bilinearBackward(inputGradient: dActivations[i - 1].pointer, outputGradient: dInputs[i].pointer, shape: all)
        }
        let one = Upsample.Shape(batch: 1, channels: C, height: side, width: side)
        for b in 0..<count {
            Upsample.bilinearBackward(inputGradient: dActivations[i - 1].pointer + b * one.inputCount,
                                      outputGradient: dInputs[i].pointer + b * (C + 1) * one.outHeight * one.outWidth, shape: one)
        }
    }

    /// Channel C of inputs[i] [B, C+1, s, s]: each window's current frame average-pooled from Sc to s.
    func poolFrame(stage i: Int, frames: UnsafePointer<Float>, frameStride: Int) {
        let C = convs[i].inChannels - 1, s = convs[i].height, plane = s * s, S = crop
        let f = S / s, scale = 1 / Float(f * f)
        for b in 0..<count {
            let frame = frames + b * frameStride, pooled = inputs[i].pointer + (b * (C + 1) + C) * plane
            for y in 0..<s {
                for x in 0..<s {
                    var sum: Float = 0
                    for v in (y * f)..<((y + 1) * f) { for u in (x * f)..<((x + 1) * f) { sum += frame[v * S + u] } }
                    pooled[y * s + x] = sum * scale
                }
            }
        }
    }
}
