/// Cutting the tracker's square crop (METHOD §10) out of working-scale frames: the same place in
/// every frame of the window, zero outside the image; then the window is standardised as a whole.
public enum CropWindow {
    /// The crop's top-left corner in working index coordinates for a centre (rounded to a pixel).
    public static func origin(centreX: Float, centreY: Float, crop: Int) -> (x: Int, y: Int) {
        (Int(centreX.rounded()) - crop / 2, Int(centreY.rounded()) - crop / 2)
    }

    /// Copies the crop [Sc, Sc] at `origin` of `frame` into `out` (zeros outside the frame).
    public static func cut(_ frame: TrackingFrame, origin: (x: Int, y: Int), crop: Int, into out: UnsafeMutablePointer<Float>) {
        out.update(repeating: 0, count: crop * crop)
        let x0 = max(0, origin.x), x1 = min(frame.width, origin.x + crop)
        guard x0 < x1 else { return }
        frame.pixels.withUnsafeBufferPointer { src in
            for v in 0..<crop {
                let y = origin.y + v
                guard y >= 0 && y < frame.height else { continue }
                (out + v * crop + (x0 - origin.x)).update(from: src.baseAddress! + y * frame.width + x0, count: x1 - x0)
            }
        }
    }

    /// (x - mean) / (std + 1e-6) over `count` values in place (std over all of them, biased).
    public static func standardise(_ x: UnsafeMutablePointer<Float>, count: Int) {
        var sum = 0.0, squares = 0.0
        for i in 0..<count { sum += Double(x[i]); squares += Double(x[i]) * Double(x[i]) }
        let mean = sum / Double(count)
        let std = max(0, squares / Double(count) - mean * mean).squareRoot()
        let m = Float(mean), s = Float(1 / (std + 1e-6))
        for i in 0..<count { x[i] = (x[i] - m) * s }
    }
}
