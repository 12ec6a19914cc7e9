import FluoroTensor

extension UNet {
    /// Adds every parameter's gradient into the arena, given dLogits [B, 1, H, W] of the last
    /// `forward` (the input image gets no gradient).
    public func backward(dLogits: UnsafePointer<Float>) {
        precondition(training, "UNet.backward: this network was built for inference (training: false)")
        let L = downs.count
        for pair in downs + ups + [bottleneck] { pair.dOut!.zero() }
        Conv2D.backward(inputGradient: ups[0].dOut!.pointer, weightGradient: dHeadWeight, biasGradient: dHeadBias,
                        outputGradient: dLogits, input: ups[0].out.pointer, weight: headWeight, shape: head, workspace: nil)
        // Decoder, finest level first: each level's dOut is final once the finer level has run.
        for i in 0..<L {
            dConcatenated[i].zero()
            ups[i].backward(dInput: dConcatenated[i].pointer, workspace: workspace.pointer, parts: parts)
            dUpsampled[i].zero()
            ChannelConcat.backward(firstGradient: dUpsampled[i].pointer, secondGradient: downs[i].dOut!.pointer,
                                   outputGradient: dConcatenated[i].pointer, shape: concats[i])
            let deeper = i == L - 1 ? bottleneck.dOut! : ups[i + 1].dOut!
            Upsample.bilinearBackward(inputGradient: deeper.pointer, outputGradient: dUpsampled[i].pointer, shape: upsamples[i])
        }
        dPooled[L - 1].zero()
        bottleneck.backward(dInput: dPooled[L - 1].pointer, workspace: workspace.pointer, parts: parts)
        // Encoder, deepest level first: the skip's gradient plus the pooled path's.
        for i in stride(from: L - 1, through: 0, by: -1) {
            MaxPool2D.backward(inputGradient: downs[i].dOut!.pointer, outputGradient: dPooled[i].pointer,
                               indices: poolIndices[i], shape: pools[i])
            if i > 0 { dPooled[i - 1].zero() }
            downs[i].backward(dInput: i > 0 ? dPooled[i - 1].pointer : nil, workspace: workspace.pointer, parts: parts)
        }
    }
}
