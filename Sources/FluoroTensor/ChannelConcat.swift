/// Concatenation of two NCHW tensors along channels, as `torch.cat([a, b], dim=1)` (the U-Net's
/// skip connection). Backward splits the gradient and adds it into da and db.
public enum ChannelConcat {
    /// The sizes: a [B, Ca, H, W] and b [B, Cb, H, W] -> out [B, Ca+Cb, H, W].
    public struct Shape: Equatable, Sendable {
        public var batch: Int
        public var firstChannels: Int
        public var secondChannels: Int
        /// Pixels of one plane: H * W.
        public var plane: Int

        public init(batch: Int, firstChannels: Int, secondChannels: Int, height: Int, width: Int) {
            self.batch = batch; self.firstChannels = firstChannels; self.secondChannels = secondChannels
            plane = height * width
        }

        /// Elements of one image of the output: (Ca + Cb) * H * W.
        var outImage: Int { (firstChannels + secondChannels) * plane }
        public var outputCount: Int { batch * outImage }
    }

    /// out[b] = [a[b]; b[b]] along channels.
    /// - Parameters: output: [B, Ca+Cb, H, W]; first: a [B, Ca, H, W]; second: b [B, Cb, H, W]
    public static func forward(output: UnsafeMutablePointer<Float>, first: UnsafePointer<Float>,
                               second: UnsafePointer<Float>, shape s: Shape) {
        let na = s.firstChannels * s.plane, nb = s.secondChannels * s.plane
        for b in 0..<s.batch {
            let out = output + b * s.outImage
            out.update(from: first + b * na, count: na)
            (out + na).update(from: second + b * nb, count: nb)
        }
    }

    /// da += dout[:, :Ca], db += dout[:, Ca:] (either may be nil: that part is dropped).
    /// - Parameters: firstGradient: da [B, Ca, H, W]; secondGradient: db [B, Cb, H, W]; outputGradient: [B, Ca+Cb, H, W]
    public static func backward(firstGradient: UnsafeMutablePointer<Float>?, secondGradient: UnsafeMutablePointer<Float>?,
                                outputGradient: UnsafePointer<Float>, shape s: Shape) {
        let na = s.firstChannels * s.plane, nb = s.secondChannels * s.plane
        for b in 0..<s.batch {
            let dout = outputGradient + b * s.outImage
            if let da = firstGradient { VectorMath.axpy(1, dout, da + b * na, na) }
            if let db = secondGradient { VectorMath.axpy(1, dout + na, db + b * nb, nb) }
        }
    }
}
