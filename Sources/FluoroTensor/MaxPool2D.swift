/// 2x2 max pooling with stride 2 over NCHW tensors, as `torch.nn.MaxPool2d(2)` (odd trailing
/// rows and columns are dropped). Forward records the winner of each window for backward.
public enum MaxPool2D {
    /// The sizes of one pooling: [N, C, H, W] -> [N, C, H/2, W/2].
    public struct Shape: Equatable, Sendable {
        /// Planes: N * C.
        public var planes: Int
        public var height: Int
        public var width: Int

        public init(batch: Int, channels: Int, height: Int, width: Int) {
            planes = batch * channels; self.height = height; self.width = width
        }

        public var outHeight: Int { height / 2 }
        public var outWidth: Int { width / 2 }
        public var inputCount: Int { planes * height * width }
        public var outputCount: Int { planes * outHeight * outWidth }
    }

    /// out = the maximum of each 2x2 window; `indices` gets each winner's offset in its input plane
    /// (the first maximum in row-major order on ties, like PyTorch; NaN wins, as in PyTorch).
    /// - Parameters: output: out: [N, C, H/2, W/2]; indices: [N, C, H/2, W/2]; input: x: [N, C, H, W]
    public static func forward(output: UnsafeMutablePointer<Float>, indices: UnsafeMutablePointer<Int32>,
                               input: UnsafePointer<Float>, shape s: Shape) {
        let (H, W, Ho, Wo) = (s.height, s.width, s.outHeight, s.outWidth)
        for p in 0..<s.planes {
            let x = input + p * H * W
            let out = output + p * Ho * Wo, idx = indices + p * Ho * Wo
            for oy in 0..<Ho {
                for ox in 0..<Wo {
                    let corner = 2 * oy * W + 2 * ox
                    var best = corner
                    @inline(__always) func consider(_ candidate: Int) {
                        let v = x[candidate]
                        if v > x[best] || v.isNaN && !x[best].isNaN { best = candidate }
                    }
                    consider(corner + 1); consider(corner + W); consider(corner + W + 1)
                    out[oy * Wo + ox] = x[best]
                    idx[oy * Wo + ox] = Int32(best)
                }
            }
        }
    }

    /// dx[winner] += dout for every window.
    /// - Parameters: inputGradient: dx: [N, C, H, W]; outputGradient: dout: [N, C, H/2, W/2]; indices: [N, C, H/2, W/2]
    public static func backward(inputGradient: UnsafeMutablePointer<Float>, outputGradient: UnsafePointer<Float>,
                                indices: UnsafePointer<Int32>, shape s: Shape) {
        let planeIn = s.height * s.width, planeOut = s.outHeight * s.outWidth
        for p in 0..<s.planes {
            let dx = inputGradient + p * planeIn
            for i in 0..<planeOut { dx[Int(indices[p * planeOut + i])] += outputGradient[p * planeOut + i] }
        }
    }
}
