import FluoroModel
import FluoroTensor
import Foundation

/// HiFT (METHOD §10) over a flat parameter arena: the pretrained encoder over every token of a
/// window, the current slot's tokens as queries, correlation tokens, the cross-attention decoder
/// and the CNN heads. `forward` gives heatmap logits (and, when training, catheter-body logits);
/// `backward` adds every gradient into `parameters.gradients`.
public final class HiFT {
    public let config: HiFTConfig
    /// Windows per call.
    public let batch: Int
    /// Every parameter (`encoder.*`, `correlation.*`, `decoder.*`, `heatmap_head.*`, `catheter_head.*`).
    public let parameters: ParameterArena
    let encoder: ViTEncoder
    let correlation: CorrelationTokens
    let blockShape: CrossAttentionBlock.Shape
    let blocks: [CrossAttentionBlock.Weights], dBlocks: [CrossAttentionBlock.Weights]
    let blockActs: [CrossAttentionBlock.Activations]
    let blockScratch: CrossAttentionBlock.Scratch
    let heatmapHead: HeatmapHead, catheterHead: HeatmapHead
    let normWeight, normBias, dNormWeight, dNormBias: UnsafeMutablePointer<Float>
    // Activations: streams[l] is decoder block l's input [B, g², D]; then the final norm.
    let streams: [FloatBuffer]
    let normOut, normMean, normRstd: FloatBuffer
    // Gradients of activations.
    let dStream, dNormOut, dContext, dFeatures: FloatBuffer
    /// The loss's gradients of the heatmap and catheter logits [B, Sc, Sc], reused every step.
    let dHeatmapLogits, dCatheterLogits: FloatBuffer
    var features: UnsafePointer<Float>?
    /// The windows the catheter head ran on in the last forward, in order (it runs on no others:
    /// their logits would be unused and their gradients zero).
    var catheterSamples: [Int] = []
    /// The catheter head's input when it runs on some windows only: their tokens [B, g², D] and
    /// (with `headImageSkip`) current frames [B, Sc, Sc], gathered; then the tokens' gradient.
    let catheterTokens, catheterFrames, dCatheterTokens: FloatBuffer
    /// `queryPositionCodes`: the fixed code added to each query [g², D]; nil when off.
    let queryCodes: FloatBuffer?

    /// A model for `config` and `batch`, initialised from `seed` as the reference initialises a tracker.
    public init(config: HiFTConfig, batch: Int, seed: UInt64 = 0) {
        self.config = config
        self.batch = batch
        let arena = ParameterArena(specs: HiFTParameters.specs(for: config))
        arena.initialize(seed: seed)
        if config.trajectoryPositionInit == true { HiFTParameters.initializeTrajectoryPositions(in: arena, config: config) }
        parameters = arena
        let c = config, M = batch * c.queries, D = c.width
        encoder = ViTEncoder(config: c.encoderConfig, batch: batch, arena: arena)
        correlation = CorrelationTokens(config: c, batch: batch, arena: arena)
        let shape = CrossAttentionBlock.Shape(batch: batch, queries: c.queries, context: c.contextTokens, width: D,
                                              heads: c.heads, mlpRatio: c.mlpRatio)
        blockShape = shape
        blocks = (0..<c.decoderDepth).map { HiFTParameters.block("decoder.blocks.\($0)", in: arena) }
        dBlocks = (0..<c.decoderDepth).map { HiFTParameters.block("decoder.blocks.\($0)", in: arena, gradients: true) }
        blockActs = (0..<c.decoderDepth).map { _ in CrossAttentionBlock.Activations(shape) }
        blockScratch = CrossAttentionBlock.Scratch(shape)
        heatmapHead = HeatmapHead(prefix: "heatmap_head", config: c, batch: batch, arena: arena)
        catheterHead = HeatmapHead(prefix: "catheter_head", config: c, batch: batch, arena: arena)
        normWeight = arena.value("decoder.norm.weight"); normBias = arena.value("decoder.norm.bias")
        dNormWeight = arena.gradient("decoder.norm.weight"); dNormBias = arena.gradient("decoder.norm.bias")
        streams = (0...c.decoderDepth).map { _ in FloatBuffer(count: M * D) }
        normOut = FloatBuffer(count: M * D); normMean = FloatBuffer(count: M); normRstd = FloatBuffer(count: M)
        dStream = FloatBuffer(count: M * D); dNormOut = FloatBuffer(count: M * D)
        dContext = FloatBuffer(count: batch * c.contextTokens * D)
        dFeatures = FloatBuffer(count: batch * c.tokens * D)
        dHeatmapLogits = FloatBuffer(count: batch * c.crop * c.crop)
        dCatheterLogits = FloatBuffer(count: batch * c.crop * c.crop)
        queryCodes = c.queryPositionCodes == true ? FloatBuffer(HiFTParameters.queryPositionCodes(config: c)) : nil
        catheterTokens = FloatBuffer(count: M * D); dCatheterTokens = FloatBuffer(count: M * D)
        catheterFrames = FloatBuffer(count: c.headImageSkip == true ? batch * c.crop * c.crop : 0)
    }

    /// Loads the encoder from an exported FIMAE/FIMAE-SC encoder (`encoder.*` names), checking shapes.
    public func loadEncoder(from file: SafetensorsFile) throws {
        try parameters.loadViews(from: file, where: { $0.hasPrefix("encoder.") })
    }

    /// Heatmap logits [B, Sc, Sc] (and catheter-body logits [B, Sc, Sc] when `auxiliary`) of
    /// windows [B, W, Sc, Sc] (standardised) and past estimates [B, W-1, K, 2] (crop pixels, NaN =
    /// none). The buffers are reused by the next call.
    @discardableResult
    public func forward(window: UnsafePointer<Float>, past: UnsafePointer<Float>, auxiliary: Bool = true)
        -> (heatmap: UnsafePointer<Float>, catheter: UnsafePointer<Float>?) {
        forward(window: window, past: past, catheterSamples: auxiliary ? Array(0..<batch) : [])
    }

    /// As `forward(window:past:auxiliary:)`, with the catheter head run on the windows
    /// `catheterSamples` only (increasing): its logits are [catheterSamples.count, Sc, Sc], in that
    /// order (nil when the list is empty).
    func forward(window: UnsafePointer<Float>, past: UnsafePointer<Float>, catheterSamples: [Int])
        -> (heatmap: UnsafePointer<Float>, catheter: UnsafePointer<Float>?) {
        let c = config, D = c.width, n = c.queries
        let feats = encoder.forward(clip: window).baseAddress!  // [B, N, D]
        features = feats
        for b in 0..<batch {  // queries: the current (last) slot's tokens (+ their cells' codes)
            let queries = streams[0].pointer + b * n * D
            queries.update(from: feats + (b * c.tokens + (c.slots - 1) * n) * D, count: n * D)
            if let queryCodes { VectorMath.axpy(1, queryCodes.pointer, queries, n * D) }
        }
        correlation.forward(features: feats, past: past)
        for l in 0..<c.decoderDepth {
            CrossAttentionBlock.forward(out: streams[l + 1].pointer, acts: blockActs[l], queries: streams[l].pointer,
                                        context: correlation.tokens.pointer, weights: blocks[l], shape: blockShape, eps: c.layerNormEps)
        }
        LayerNorm.forward(out: normOut.pointer, mean: normMean.pointer, rstd: normRstd.pointer, input: streams[c.decoderDepth].pointer,
                          weight: normWeight, bias: normBias, rows: batch * n, channels: D, eps: c.layerNormEps)
        let current = window + (c.window - 1) * c.crop * c.crop, stride = c.window * c.crop * c.crop
        let heat = heatmapHead.forward(tokens: normOut.pointer, frames: current, frameStride: stride)
        self.catheterSamples = catheterSamples
        return (heat, catheterForward(current: current, frameStride: stride))
    }

    /// The catheter head on `catheterSamples` (nil when none): on all windows in place, else on
    /// their tokens (and current frames) gathered.
    func catheterForward(current: UnsafePointer<Float>, frameStride: Int) -> UnsafePointer<Float>? {
        let samples = catheterSamples, rows = config.queries * config.width, P = config.crop * config.crop
        guard !samples.isEmpty else { return nil }
        precondition(zip(samples, samples.dropFirst()).allSatisfy { $0 < $1 } && samples.allSatisfy { (0..<batch).contains($0) },
                     "HiFT: catheter samples \(samples) are not increasing windows of 0..<\(batch)")
        if samples.count == batch {
            return catheterHead.forward(tokens: normOut.pointer, frames: current, frameStride: frameStride)
        }
        for (i, b) in samples.enumerated() {
            (catheterTokens.pointer + i * rows).update(from: normOut.pointer + b * rows, count: rows)
            if catheterFrames.count > 0 { (catheterFrames.pointer + i * P).update(from: current + b * frameStride, count: P) }
        }
        return catheterHead.forward(tokens: catheterTokens.pointer, count: samples.count, frames: catheterFrames.pointer, frameStride: P)
    }

    /// Adds every gradient, given dHeatmap [B, Sc, Sc] and dCatheter (nil: zero) for the last
    /// forward: [S, Sc, Sc] for its S catheter samples (all B for `forward(window:past:auxiliary:)`).
    public func backward(dHeatmap: UnsafePointer<Float>, dCatheter: UnsafePointer<Float>?) {
        let c = config, D = c.width, n = c.queries
        dNormOut.zero()
        heatmapHead.backward(dLogits: dHeatmap, dTokens: dNormOut.pointer)
        if let dCatheter {
            precondition(!catheterSamples.isEmpty, "HiFT.backward: the catheter head did not run in forward")
            catheterBackward(dLogits: dCatheter)
        }
        LayerNorm.backward(dInput: dStream.pointer, dWeight: dNormWeight, dBias: dNormBias, dOut: dNormOut.pointer,
                           input: streams[c.decoderDepth].pointer, weight: normWeight, mean: normMean.pointer, rstd: normRstd.pointer,
                           rows: batch * n, channels: D, overwriteInput: true)
        dContext.zero()
        for l in stride(from: c.decoderDepth - 1, through: 0, by: -1) {
            CrossAttentionBlock.backward(dStream: dStream.pointer, dContext: dContext.pointer, grads: dBlocks[l],
                                         queries: streams[l].pointer, context: correlation.tokens.pointer, weights: blocks[l],
                                         acts: blockActs[l], scratch: blockScratch, shape: blockShape)
        }
        for b in 0..<batch {  // the past slots' gradients come from the correlation tokens; the current slot's from the queries
            let clip = dFeatures.pointer + b * c.tokens * D
            clip.update(repeating: 0, count: (c.slots - 1) * n * D)
            (clip + (c.slots - 1) * n * D).update(from: dStream.pointer + b * n * D, count: n * D)
        }
        correlation.backward(dTokens: dContext.pointer, dFeatures: dFeatures.pointer)
        encoder.backward(dTokens: dFeatures.pointer)
    }

    /// The catheter head's gradients, its tokens' gradient added into dNormOut's rows of its windows.
    func catheterBackward(dLogits: UnsafePointer<Float>) {
        let samples = catheterSamples, rows = config.queries * config.width
        if samples.count == batch { return catheterHead.backward(dLogits: dLogits, dTokens: dNormOut.pointer) }
        dCatheterTokens.pointer.update(repeating: 0, count: samples.count * rows)
        catheterHead.backward(dLogits: dLogits, dTokens: dCatheterTokens.pointer)
        for (i, b) in samples.enumerated() {
            VectorMath.axpy(1, dCatheterTokens.pointer + i * rows, dNormOut.pointer + b * rows, rows)
        }
    }
}
