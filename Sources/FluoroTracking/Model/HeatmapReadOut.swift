import FluoroTensor
import Foundation

/// The read-out of METHOD §10: sigmoid; 8-connected components of pixels above a threshold (0.5,
/// halved down to 1/64 of it until K components exist); the K components with the highest peaks
/// (ties to the smaller (y, x)); each landmark is the probability-weighted centroid of the 5x5
/// window around its component's peak (clipped at the border). Fewer than K: the rest are nil.
///
/// Optionally (not METHOD §10; off by default) a motion prior: before the components are found the
/// probabilities are multiplied by a Gaussian window of the distance to the nearest previous
/// estimate, exp(-d²/2s²), the way Siamese trackers weight their response map with a cosine window
/// (Bertinetto et al. 2016), so that of two tip-like candidates the one near the past wins.
public enum HeatmapReadOut {
    /// A Gaussian window around the previous estimates (heatmap pixels) of width `sigma`.
    public struct MotionPrior: Sendable {
        public var previous: [(x: Double, y: Double)]
        public var sigma: Double
        public init(previous: [(x: Double, y: Double)], sigma: Double) { self.previous = previous; self.sigma = sigma }

        /// exp(-d²/2σ²) for the nearest previous estimate.
        func weight(x: Int, y: Int) -> Double {
            var d2 = Double.infinity
            for p in previous {
                let dx: Double = Double(x) - p.x, dy: Double = Double(y) - p.y
                d2 = min(d2, dx * dx + dy * dy)
            }
            return previous.isEmpty ? 1 : exp(-d2 / (2 * sigma * sigma))
        }
    }

    /// Landmarks (x, y) in heatmap pixels, strongest first, from logits [H, W].
    public static func landmarks(logits: UnsafePointer<Float>, height H: Int, width W: Int, count K: Int,
                                 threshold: Double = 0.5, prior: MotionPrior? = nil) -> [(x: Double, y: Double)?] {
        var p = [Double](repeating: 0, count: H * W)
        for i in 0..<(H * W) { p[i] = 1 / (1 + exp(-Double(logits[i]))) }
        if let prior {
            for y in 0..<H { for x in 0..<W { p[y * W + x] *= prior.weight(x: x, y: y) } }
        }
        var t = threshold
        var peaks: [(value: Double, y: Int, x: Int)]
        while true {
            peaks = componentPeaks(p, H, W, above: t)
            if peaks.count >= K || t <= threshold / 64 { break }
            t /= 2
        }
        peaks.sort { ($0.value, -$0.y, -$0.x) > ($1.value, -$1.y, -$1.x) }
        var out: [(x: Double, y: Double)?] = peaks.prefix(K).map { peak in centroid(p, H, W, y: peak.y, x: peak.x) }
        while out.count < K { out.append(nil) }
        return out
    }

    /// Each 8-connected component's first highest pixel, visiting pixels in the reference's order
    /// (row-major seeds, depth-first from a stack, neighbours by dy then dx).
    static func componentPeaks(_ p: [Double], _ H: Int, _ W: Int, above t: Double) -> [(value: Double, y: Int, x: Int)] {
        var seen = [Bool](repeating: false, count: H * W)
        var peaks: [(value: Double, y: Int, x: Int)] = []
        var stack: [(Int, Int)] = []
        for y0 in 0..<H {
            for x0 in 0..<W where !seen[y0 * W + x0] && p[y0 * W + x0] > t {
                seen[y0 * W + x0] = true
                stack.append((y0, x0))
                var best = (value: p[y0 * W + x0], y: y0, x: x0)
                while let (y, x) = stack.popLast() {
                    if p[y * W + x] > best.value { best = (p[y * W + x], y, x) }
                    for dy in -1...1 {
                        for dx in -1...1 {
                            let v = y + dy, u = x + dx
                            if v >= 0 && v < H && u >= 0 && u < W && !seen[v * W + u] && p[v * W + u] > t {
                                seen[v * W + u] = true
                                stack.append((v, u))
                            }
                        }
                    }
                }
                peaks.append(best)
            }
        }
        return peaks
    }

    static func centroid(_ p: [Double], _ H: Int, _ W: Int, y: Int, x: Int) -> (x: Double, y: Double) {
        var sw = 0.0, sx = 0.0, sy = 0.0
        for v in max(0, y - 2)..<min(H, y + 3) {
            for u in max(0, x - 2)..<min(W, x + 3) {
                let w = p[v * W + u]
                sw += w; sx += w * Double(u); sy += w * Double(v)
            }
        }
        return (sx / sw, sy / sw)
    }
}
