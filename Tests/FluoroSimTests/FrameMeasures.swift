import Foundation
import FluoroShards

/// Pixel measurements the simulator tests share: one frame of a layer, dilation, region means.
struct FrameMeasures {
    let size: Int
    var area: Int { size * size }

    /// Frame f of a [T, H, W] byte buffer.
    func frame(_ data: Data, _ f: Int) -> [UInt8] { Array(data[data.startIndex + f * area ..< data.startIndex + (f + 1) * area]) }

    /// Binary dilation of (mask > 0) by a square of radius r.
    func dilate(_ mask: [UInt8], by r: Int) -> [Bool] {
        var out = [Bool](repeating: false, count: area)
        for y in 0 ..< size {
            for x in 0 ..< size where mask[y * size + x] > 0 {
                for yy in max(0, y - r) ... min(size - 1, y + r) {
                    for xx in max(0, x - r) ... min(size - 1, x + r) { out[yy * size + xx] = true }
                }
            }
        }
        return out
    }

    /// Mean of pixels where `inside` holds (nil when none).
    func mean(_ pixels: [UInt8], where inside: (Int) -> Bool) -> Double? {
        var s = 0.0, n = 0
        for i in 0 ..< area where inside(i) { s += Double(pixels[i]); n += 1 }
        return n > 0 ? s / Double(n) : nil
    }

    /// Mean inside a mask and in a ring r1...r2 pixels around it (excluding `exclude`), both within `field`.
    func maskAndRing(_ pixels: [UInt8], mask: [UInt8], r1: Int, r2: Int, field: [Bool],
                     exclude: [Bool]? = nil) -> (inside: Double, ring: Double)? {
        let near = dilate(mask, by: r1), far = dilate(mask, by: r2)
        guard let a = mean(pixels, where: { mask[$0] > 0 && field[$0] && !(exclude?[$0] ?? false) }),
              let b = mean(pixels, where: { far[$0] && !near[$0] && field[$0] && !(exclude?[$0] ?? false) }) else { return nil }
        return (a, b)
    }

    /// Pixel index of a point (nil outside the frame).
    func index(_ p: Point2) -> Int? {
        let x = Int(p.x.rounded(.down)), y = Int(p.y.rounded(.down))
        guard x >= 0, y >= 0, x < size, y < size else { return nil }
        return y * size + x
    }
}
