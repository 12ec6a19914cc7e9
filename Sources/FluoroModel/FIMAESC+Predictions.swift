/// Read access to the decoders' outputs of the last `forward` or `forwardBackward`, for pictures
/// of what the model predicts (reconstruction panels). Reading changes nothing in the math.
extension FIMAESC {
    /// The reconstruction decoder's output for every token, [B*N, V] in the per-token normalised
    /// target space (pixel order as `Tokens.patchify`); nil when wRec = 0 (the decoder does not run).
    public var reconstructionPredictions: [Float]? {
        config.wRec != 0 ? Array(UnsafeBufferPointer(start: decoders[0].pred.pointer, count: decoders[0].pred.count)) : nil
    }

    /// The vesselness decoder's logits for every token, [B*N, V]; nil when wVes = 0.
    public var vesselnessLogits: [Float]? {
        config.wVes != 0 ? Array(UnsafeBufferPointer(start: decoders[1].pred.pointer, count: decoders[1].pred.count)) : nil
    }
}
