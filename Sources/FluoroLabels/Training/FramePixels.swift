import FluoroShards
import Foundation

/// Stored frames as floats in [0, 1] (scaled by the sequence's bits stored), and per-image
/// standardisation, shared by training and labelling so both see the same input.
enum FramePixels {
    /// Frame `t` of `pixels` ([n, H, W] as stored: UInt8, or UInt16 little endian) into out [H, W].
    static func unit(_ pixels: Data, frame t: Int, info: SequenceInfo, into out: UnsafeMutablePointer<Float>) {
        let plane = info.width * info.height
        let bits = min(max(info.bitsStored, 1), info.pixelFormat == .uint8 ? 8 : 16)
        let scale = 1 / Float((1 << bits) - 1)
        pixels.withUnsafeBytes { raw in
            if info.pixelFormat == .uint16 {
                let base = raw.baseAddress! + t * plane * 2
                for i in 0..<plane {
                    let v = UInt16(base.load(fromByteOffset: 2 * i, as: UInt8.self)) | UInt16(base.load(fromByteOffset: 2 * i + 1, as: UInt8.self)) << 8
                    out[i] = min(Float(v) * scale, 1)
                }
            } else {
                let base = raw.baseAddress!.assumingMemoryBound(to: UInt8.self) + t * plane
                for i in 0..<plane { out[i] = min(Float(base[i]) * scale, 1) }
            }
        }
    }

    /// x <- (x - mean) / (std + 1e-6) over `count` values.
    static func standardise(_ x: UnsafeMutablePointer<Float>, count n: Int) {
        var sum = 0.0, squares = 0.0
        for i in 0..<n { sum += Double(x[i]); squares += Double(x[i]) * Double(x[i]) }
        let mean = sum / Double(n), std = max(0, squares / Double(n) - mean * mean).squareRoot()
        let m = Float(mean), inv = Float(1 / (std + 1e-6))
        for i in 0..<n { x[i] = (x[i] - m) * inv }
    }
}
