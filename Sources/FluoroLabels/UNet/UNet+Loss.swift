import FluoroTensor

extension UNet {
    /// One training pass: zero the gradients, forward, the loss against targets [B, 1, H, W]
    /// (0/1), backward. `dLogits` is scratch of B*H*W floats.
    public func forwardBackward(images: UnsafePointer<Float>, targets: UnsafePointer<Float>,
                                dLogits: UnsafeMutablePointer<Float>) -> SegmentationLoss {
        parameters.zeroGradients()
        let out = forward(images)
        let loss = SegmentationLoss.compute(logits: out, targets: targets, batch: batch, pixels: height * width, dLogits: dLogits)
        backward(dLogits: dLogits)
        return loss
    }
}
