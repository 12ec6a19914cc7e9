import FluoroShards
import Foundation

/// The tracker works on frames resized so that the crop is half the shorter side (METHOD §10:
/// Sc = half the frame side): a 256-px simulator frame with Sc 128 is used as it is, a 512-px
/// clinical frame is halved. Coordinates: full-frame points have pixel centres at .5 (the shards'
/// convention); model ("index") coordinates have pixel centres at integers (the reference's).
public struct WorkingScale: Sendable, Equatable {
    /// Working pixels per stored pixel.
    public let factor: Float
    /// Working frame size.
    public let width: Int, height: Int

    /// The scale for frames of `width` x `height` and a crop side `crop`.
    public init(width: Int, height: Int, crop: Int) {
        let f = Float(2 * crop) / Float(min(width, height))
        factor = abs(f - 1) < 1e-6 ? 1 : f
        self.width = max(1, Int((Float(width) * factor).rounded()))
        self.height = max(1, Int((Float(height) * factor).rounded()))
    }

    /// A stored-frame point → working index coordinates.
    public func toWorking(_ p: Point2) -> (x: Float, y: Float) { (p.x * factor - 0.5, p.y * factor - 0.5) }

    /// Working index coordinates → a stored-frame point.
    public func toFrame(x: Float, y: Float) -> Point2 { Point2(x: (x + 0.5) / factor, y: (y + 0.5) / factor) }

    /// The frame resized to the working size (bilinear, sampling at pixel centres; halving averages
    /// 2x2 blocks exactly). A frame already at the working size is returned as it is.
    public func resize(_ frame: TrackingFrame) -> TrackingFrame {
        if factor == 1 && frame.width == width && frame.height == height { return frame }
        return TrackingFrame(pixels: Self.resample(frame, width: width, height: height), width: width, height: height)
    }

    /// `frame` resampled bilinearly to width x height (align_corners = false), each axis on its own.
    public static func resample(_ frame: TrackingFrame, width: Int, height: Int) -> [Float] {
        let sx = Float(frame.width) / Float(width), sy = Float(frame.height) / Float(height)
        let xs = (0..<width).map { tap(Float($0), sx, frame.width) }
        var out = [Float](repeating: 0, count: width * height)
        frame.pixels.withUnsafeBufferPointer { src in
            for y in 0..<height {
                let ty = tap(Float(y), sy, frame.height)
                let r0 = ty.i0 * frame.width, r1 = ty.i1 * frame.width
                for x in 0..<width {
                    let tx = xs[x]
                    let top = src[r0 + tx.i0] * (1 - tx.w) + src[r0 + tx.i1] * tx.w
                    let bottom = src[r1 + tx.i0] * (1 - tx.w) + src[r1 + tx.i1] * tx.w
                    out[y * width + x] = top * (1 - ty.w) + bottom * ty.w
                }
            }
        }
        return out
    }

    /// Source taps of output coordinate o at `scale` source pixels per output pixel.
    static func tap(_ o: Float, _ scale: Float, _ n: Int) -> (i0: Int, i1: Int, w: Float) {
        let s = max(0, (o + 0.5) * scale - 0.5)
        let i0 = min(Int(s), n - 1)
        return (i0, min(i0 + 1, n - 1), s - Float(i0))
    }
}
