import FluoroTensor

/// The FIMAE-SC encoder over every token of a clip, without masking (METHOD §10: the tracker's
/// backbone). Same weights and names as the pretraining encoder (`encoder.*`), so it loads from a
/// FIMAE-SC checkpoint or an exported encoder; forward gives the final LayerNorm's tokens and
/// backward adds the encoder's gradients for fine-tuning.
public final class ViTEncoder {
    /// The model shape (its encoder fields and the clip size are used).
    public let config: ModelConfig
    /// Clips per call.
    public let batch: Int
    /// The encoder's parameters (`encoder.*` only) and their gradients.
    public let parameters: ParameterArena
    let pass: EncoderPass
    let patches: FloatBuffer   // [B*N, V]
    let allTokens: IndexBuffer // [B, N]: 0..<N per clip

    /// An encoder for `config` and `batch`, initialised from `seed` (then usually loaded).
    public convenience init(config: ModelConfig, batch: Int, seed: UInt64 = 0) {
        let arena = ParameterArena(specs: Self.specs(for: config))
        arena.initialize(seed: seed)
        self.init(config: config, batch: batch, arena: arena)
    }

    /// An encoder over the `encoder.*` views of a larger model's arena (the tracker's), so one
    /// optimizer step, all-reduce and checkpoint covers the encoder and the rest alike.
    public init(config: ModelConfig, batch: Int, arena: ParameterArena) {
        self.config = config
        self.batch = batch
        parameters = arena
        pass = EncoderPass(config: config, batch: batch, arena: parameters, tokens: config.tokens, mapsToDecoder: false)
        patches = FloatBuffer(count: batch * config.tokens * config.tokenValues)
        allTokens = IndexBuffer(count: batch * config.tokens)
        for b in 0..<batch { for n in 0..<config.tokens { allTokens.pointer[b * config.tokens + n] = Int32(n) } }
    }

    /// The encoder's parameters (`encoder.*`) for `config`, in VideoMAE's names and order.
    public static func specs(for config: ModelConfig) -> [ParameterArena.Spec] {
        FIMAESCParameters.specs(for: config).filter { $0.name.hasPrefix("encoder.") }
    }

    /// Token features [B, N, D] (token order (t', h', w')) of clip: [B, T, S, S]. The buffer is
    /// reused by the next call.
    public func forward(clip: [Float]) throws -> UnsafeBufferPointer<Float> {
        let c = config
        let pixels = batch * c.frames * c.size * c.size
        guard clip.count == pixels else { throw ModelInputError.wrongCount(input: "clip", expected: pixels, found: clip.count) }
        return clip.withUnsafeBufferPointer { forward(clip: $0.baseAddress!) }
    }

    /// Token features [B, N, D] of clip: [B, T, S, S] (`batch * frames * size * size` floats).
    public func forward(clip: UnsafePointer<Float>) -> UnsafeBufferPointer<Float> {
        let c = config
        Tokens.patchify(out: patches.pointer, clip: clip, batch: batch, frames: c.frames, size: c.size,
                        tubelet: c.tubelet, patch: c.patch)
        let out = pass.forward(patches: patches.pointer, visible: allTokens.pointer)
        return UnsafeBufferPointer(start: out, count: batch * c.tokens * c.width)
    }

    /// Adds the encoder's gradients into `parameters.gradients`, given dTokens: [B, N, D] for the
    /// last `forward`.
    public func backward(dTokens: UnsafePointer<Float>) {
        pass.backward(dNormOut: dTokens)
    }
}
