import Foundation
import FluoroTensor

/// Errors in a training step's inputs, saying what was expected.
public enum ModelInputError: Error, CustomStringConvertible, Equatable {
    case wrongCount(input: String, expected: Int, found: Int)
    case wrongHiddenCount(row: Int, expected: Int, found: Int)

    public var description: String {
        switch self {
        case let .wrongCount(input, expected, found):
            return "\(input) has \(found) values; this model (batch x config) expects \(expected)"
        case let .wrongHiddenCount(row, expected, found):
            return "mask row \(row) hides \(found) tokens; the config's masks hide \(expected) in every clip"
        }
    }
}

/// FIMAE-SC (METHOD §5–§6): a ViT encoder over the visible tokens, a shared encoder→decoder map,
/// a pixel-reconstruction decoder and a vesselness decoder, and L = wRec·L_rec + wVes·L_ves.
/// Activations are allocated once for (config, batch); a step allocates nothing.
public final class FIMAESC {
    /// The model's shape and loss weights.
    public let config: ModelConfig
    /// Clips per step.
    public let batch: Int
    /// Parameters and their gradients (VideoMAE names).
    public let parameters: ParameterArena
    /// The loss terms of one step; a term whose weight is 0 is not computed and reads 0.
    public typealias LossTerms = (total: Float, rec: Float, ves: Float)

    let encoder: EncoderPass
    let decoders: [DecoderPass]  // reconstruction, vesselness
    // Inputs in token form: [B*N, V] each.
    let patches, target, vesselPatches: FloatBuffer
    let visible, hidden, hiddenRows: IndexBuffer  // [B, Nv], [B, Nh] (per clip) and [B*Nh] (global rows)
    let dz, dzVessel: FloatBuffer  // [B*Nv, Dd] each (the vesselness decoder's own when the decoders run side by side)

    /// When true, each step adds its phases' wall-clock seconds into `sectionSeconds`.
    public var profiling = false
    /// Seconds per phase since profiling was turned on ("prepare", "encoder.forward", "decoder.forward",
    /// "vessel_decoder.forward", "loss", "decoder.backward", "vessel_decoder.backward", "encoder.backward").
    public var sectionSeconds: [String: Double] = [:]
    /// Called during `forwardBackward` as soon as a range of `parameters.gradients` is final: first
    /// the decoders' part (the end of the arena), then everything before it, so a gradient reducer
    /// can start averaging while the encoder's backward still runs (as DDP's autograd hooks do).
    public var gradientsReady: ((Range<Int>) -> Void)?

    /// Where the decoders' parameters begin in the arena; they come last (VideoMAE order).
    public var decoderGradientStart: Int {
        parameters.views.filter { $0.name.hasPrefix("decoder.") || $0.name.hasPrefix("vessel_decoder.") }
            .map(\.offset).min() ?? parameters.gradients.count
    }
    private var mark: UInt64 = 0

    /// Ends the running section (started at the previous call) and books it under `name`.
    @inline(__always) func section(_ name: String?) {
        guard profiling else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        if let name { sectionSeconds[name, default: 0] += Double(now &- mark) / 1e9 }
        mark = now
    }

    /// A model for `config` and `batch`, parameters initialised from `seed`.
    public convenience init(config: ModelConfig, batch: Int, seed: UInt64 = 0) {
        let parameters = ParameterArena(specs: FIMAESCParameters.specs(for: config))
        parameters.initialize(seed: seed)
        self.init(config: config, batch: batch, sharing: parameters)
    }

    /// A model for `config` and `batch` over an existing arena laid out for `config` (e.g. a
    /// batch-1 model evaluating a training model's parameters as they are, without a copy; its
    /// `forward` reads the values and writes only its own activations).
    public init(config: ModelConfig, batch: Int, sharing parameters: ParameterArena) {
        let specs = FIMAESCParameters.specs(for: config)
        precondition(parameters.names == specs.map(\.name) && parameters.views.map(\.shape) == specs.map(\.shape),
                     "FIMAESC: the arena is not laid out for this config")
        self.config = config
        self.batch = batch
        self.parameters = parameters
        let M = batch * config.tokens, V = config.tokenValues
        patches = FloatBuffer(count: M * V); target = FloatBuffer(count: M * V); vesselPatches = FloatBuffer(count: M * V)
        visible = .init(count: batch * config.visibleTokens)
        hidden = .init(count: batch * config.hiddenTokens)
        hiddenRows = .init(count: batch * config.hiddenTokens)
        dz = FloatBuffer(count: batch * config.visibleTokens * config.decoderWidth)
        dzVessel = FloatBuffer(count: dz.count)
        encoder = EncoderPass(config: config, batch: batch, arena: parameters)
        // Each decoder has its own backward scratch so the two can run side by side.
        let shape = DecoderPass.blockShape(config, batch)
        decoders = [DecoderPass(config: config, batch: batch, arena: parameters, prefix: "decoder", maskToken: "mask_token",
                                scratch: TransformerBlock.Scratch(shape)),
                    DecoderPass(config: config, batch: batch, arena: parameters, prefix: "vessel_decoder",
                                maskToken: "vessel_mask_token", scratch: TransformerBlock.Scratch(shape))]
    }

    /// Loss terms without gradients.
    /// - clip, vessel: [B, T, S, S]; mask: [B, N], 1 = hidden from the encoder.
    public func forward(clip: [Float], vessel: [Float], mask: [UInt8]) throws -> LossTerms {
        section(nil)
        try prepare(clip: clip, vessel: vessel, mask: mask)
        section("prepare")
        return runForward(training: false)
    }

    /// One training step's forward and backward: returns the loss terms and writes
    /// ∂L/∂θ into `parameters.gradients` (added to what is there when `accumulate`, else replacing it).
    public func forwardBackward(clip: [Float], vessel: [Float], mask: [UInt8], accumulate: Bool = false) throws -> LossTerms {
        section(nil)
        try prepare(clip: clip, vessel: vessel, mask: mask)
        section("prepare")
        let losses = runForward(training: true)
        if !accumulate { parameters.zeroGradients() }
        runBackward()
        return losses
    }

    /// Checks the inputs, builds the index lists and the token-form clip, target and vesselness.
    func prepare(clip: [Float], vessel: [Float], mask: [UInt8]) throws {
        let c = config, B = batch, N = c.tokens
        let pixels = B * c.frames * c.size * c.size
        guard clip.count == pixels else { throw ModelInputError.wrongCount(input: "clip", expected: pixels, found: clip.count) }
        guard vessel.count == pixels else { throw ModelInputError.wrongCount(input: "vessel", expected: pixels, found: vessel.count) }
        guard mask.count == B * N else { throw ModelInputError.wrongCount(input: "mask", expected: B * N, found: mask.count) }
        for b in 0..<B {
            let hiddenCount = mask[(b * N)..<((b + 1) * N)].reduce(0) { $0 + ($1 != 0 ? 1 : 0) }
            guard hiddenCount == c.hiddenTokens else {
                throw ModelInputError.wrongHiddenCount(row: b, expected: c.hiddenTokens, found: hiddenCount)
            }
        }
        var iv = 0, ih = 0
        for b in 0..<B {
            for n in 0..<N {
                if mask[b * N + n] != 0 {
                    hidden.pointer[ih] = Int32(n); hiddenRows.pointer[ih] = Int32(b * N + n); ih += 1
                } else {
                    visible.pointer[iv] = Int32(n); iv += 1
                }
            }
        }
        let (T, S, tt, p) = (c.frames, c.size, c.tubelet, c.patch)
        clip.withUnsafeBufferPointer { src in
            Tokens.patchify(out: patches.pointer, clip: src.baseAddress!, batch: B, frames: T, size: S, tubelet: tt, patch: p)
        }
        if c.wVes != 0 {
            vessel.withUnsafeBufferPointer { src in
                Tokens.patchify(out: vesselPatches.pointer, clip: src.baseAddress!, batch: B, frames: T, size: S, tubelet: tt, patch: p)
            }
        }
        if c.wRec != 0 {
            Losses.normalisedTarget(out: target.pointer, patches: patches.pointer, rows: B * N, values: c.tokenValues)
        }
    }

    /// With two or more threads and both decoders active, the decoders run side by side, one
    /// core each (coarse-grained: no per-op synchronisation); otherwise each op is split across threads.
    var decodersSideBySide: Bool { config.wRec != 0 && config.wVes != 0 && Parallel.threads >= 2 }

    /// The forward pass; `training` also writes each loss's gradient w.r.t. its decoder's output
    /// (in the same pass over the predictions) for `runBackward`.
    func runForward(training: Bool) -> LossTerms {
        let c = config
        let z = encoder.forward(patches: patches.pointer, visible: visible.pointer)
        section("encoder.forward")
        var rec: Float = 0, ves: Float = 0
        if decodersSideBySide {
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 2) { terms in
                Parallel.concurrently(2) { i in
                    Parallel.serially { terms[i] = i == 0 ? reconstructionForward(z, training) : vesselnessForward(z, training) }
                }
                rec = terms[0]; ves = terms[1]
            }
            section("decoders.forward (side by side)")
        } else {
            if c.wRec != 0 { rec = reconstructionForward(z, training); section("decoder.forward") }
            if c.wVes != 0 { ves = vesselnessForward(z, training); section("vessel_decoder.forward") }
        }
        return (c.wRec * rec + c.wVes * ves, rec, ves)
    }

    /// The reconstruction decoder and L_rec (MSE on the hidden tokens).
    func reconstructionForward(_ z: UnsafePointer<Float>, _ training: Bool) -> Float {
        let c = config, d = decoders[0]
        let pred = d.forward(z: z, visible: visible.pointer)
        let loss = Losses.selectedMSE(pred: pred, target: target.pointer, rows: hiddenRows.pointer,
                                      count: batch * c.hiddenTokens, values: c.tokenValues)
        if training {
            d.dPred.zero()
            Losses.selectedMSEBackward(dPred: d.dPred.pointer, pred: pred, target: target.pointer, rows: hiddenRows.pointer,
                                       count: batch * c.hiddenTokens, values: c.tokenValues, scale: c.wRec)
        }
        return loss
    }

    /// The vesselness decoder and L_ves (BCE with logits over all tokens).
    func vesselnessForward(_ z: UnsafePointer<Float>, _ training: Bool) -> Float {
        let d = decoders[1]
        let pred = d.forward(z: z, visible: visible.pointer)
        return Losses.bceWithLogits(logits: pred, labels: vesselPatches.pointer, count: batch * config.tokens * config.tokenValues,
                                    gradient: training ? d.dPred.pointer : nil, scale: config.wVes)
    }

    /// Backward through the reconstruction decoder from the dPred written by a training forward.
    func reconstructionBackward(dz: UnsafeMutablePointer<Float>) {
        decoders[0].backward(dz: dz, visible: visible.pointer, hidden: hidden.pointer)
    }

    /// Backward through the vesselness decoder from the dPred written by a training forward.
    func vesselnessBackward(dz: UnsafeMutablePointer<Float>) {
        decoders[1].backward(dz: dz, visible: visible.pointer, hidden: hidden.pointer)
    }

    func runBackward() {
        let c = config
        dz.zero()
        if decodersSideBySide {
            dzVessel.zero()
            Parallel.concurrently(2) { i in
                Parallel.serially {
                    if i == 0 { reconstructionBackward(dz: dz.pointer) } else { vesselnessBackward(dz: dzVessel.pointer) }
                }
            }
            Elementwise.add(into: dz.pointer, dzVessel.pointer, count: dz.count)
            section("decoders.backward (side by side)")
        } else {
            if c.wRec != 0 { reconstructionBackward(dz: dz.pointer); section("decoder.backward") }
            if c.wVes != 0 { vesselnessBackward(dz: dz.pointer); section("vessel_decoder.backward") }
        }
        let split = decoderGradientStart
        gradientsReady?(split..<parameters.gradients.count)
        encoder.backward(dz: dz.pointer)
        section("encoder.backward")
        gradientsReady?(0..<split)
    }
}

/// A fixed-size owned Int32 buffer (index lists reused every step).
final class IndexBuffer {
    let pointer: UnsafeMutablePointer<Int32>
    init(count: Int) {
        pointer = .allocate(capacity: max(1, count))
        pointer.initialize(repeating: 0, count: max(1, count))
    }
    deinit { pointer.deallocate() }
}
