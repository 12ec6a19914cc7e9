import FluoroShards
import Foundation

/// The classic baseline ("ncc"): normalised cross-correlation template matching. On the first
/// frame a square template is cut around each landmark; in every new frame it is searched in a
/// window around the landmark's previous estimate, and the best integer match is refined to
/// sub-pixel by a parabola through the scores on each axis. The template stays the first frame's.
public final class NCCTracker: LandmarkTracker {
    public let name = "ncc"
    /// Template side (odd), and search radius in pixels; nil picks them from the frame side.
    public let templateSide: Int?
    public let searchRadius: Int?

    /// Per landmark: the zero-mean template [t, t] and its norm, and the landmark's offset from
    /// the template's centre pixel centre (so sub-pixel starting points are kept).
    private var templates: [(values: [Float], norm: Float, offset: Point2)] = []
    private var estimates: [Point2] = []
    private var side = 0, radius = 0

    /// A tracker with the given template side and search radius (defaults scale with the frame).
    public init(templateSide: Int? = nil, searchRadius: Int? = nil) {
        self.templateSide = templateSide; self.searchRadius = searchRadius
    }

    /// The default template side for a frame: about 0.06 · side, odd, at least 11 (smaller templates
    /// match noise on small frames; 15 at 256 px).
    public static func defaultTemplateSide(frameSide: Int) -> Int {
        let t = max(11, Int((0.06 * Double(frameSide)).rounded()))
        return t % 2 == 1 ? t : t + 1
    }

    /// The default search radius: about 0.08 · side, at least 3 (20 at 256 px).
    public static func defaultSearchRadius(frameSide: Int) -> Int {
        max(3, Int((0.08 * Double(frameSide)).rounded()))
    }

    /// One-step evaluation: search around the previous frame's truth (templates stay the first frame's).
    public func correct(to truth: [Point2]) { estimates = truth }

    public func start(first: TrackingFrame, landmarks: [Point2]) throws {
        let frameSide = max(first.width, first.height)
        side = templateSide ?? Self.defaultTemplateSide(frameSide: frameSide)
        radius = searchRadius ?? Self.defaultSearchRadius(frameSide: frameSide)
        estimates = landmarks
        templates = landmarks.map { p in
            let cx = Int(p.x.rounded(.down)), cy = Int(p.y.rounded(.down))
            var patch = Self.patch(first, cx: cx, cy: cy, side: side)
            let mean = patch.reduce(0, +) / Float(patch.count)
            for i in patch.indices { patch[i] -= mean }
            let norm = patch.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return (patch, norm, Point2(x: p.x - (Float(cx) + 0.5), y: p.y - (Float(cy) + 0.5)))
        }
    }

    public func track(_ frame: TrackingFrame) throws -> [LandmarkEstimate] {
        for k in estimates.indices {
            let (cx, cy, dx, dy) = search(frame, template: templates[k], around: estimates[k])
            let offset = templates[k].offset
            estimates[k] = Point2(x: Float(cx) + 0.5 + dx + offset.x, y: Float(cy) + 0.5 + dy + offset.y)
        }
        return estimates.map { LandmarkEstimate(point: $0) }
    }

    /// The best-matching centre pixel within `radius` of `previous`, and its sub-pixel offset.
    private func search(_ frame: TrackingFrame, template: (values: [Float], norm: Float, offset: Point2),
                        around previous: Point2) -> (Int, Int, Float, Float) {
        let px = Int((previous.x - template.offset.x).rounded(.down))
        let py = Int((previous.y - template.offset.y).rounded(.down))
        let n = 2 * radius + 1
        // scores: [n, n] NCC at centre (px + i - radius, py + j - radius), row j.
        var scores = [Float](repeating: -2, count: n * n)
        var best = 0
        for j in 0 ..< n {
            for i in 0 ..< n {
                let s = score(frame, template, cx: px + i - radius, cy: py + j - radius)
                scores[j * n + i] = s
                if s > scores[best] { best = j * n + i }
            }
        }
        let bi = best % n, bj = best / n
        let dx = bi > 0 && bi < n - 1 ? Self.parabolaPeak(scores[best - 1], scores[best], scores[best + 1]) : 0
        let dy = bj > 0 && bj < n - 1 ? Self.parabolaPeak(scores[best - n], scores[best], scores[best + n]) : 0
        return (px + bi - radius, py + bj - radius, dx, dy)
    }

    /// NCC of the template with the frame's patch centred on pixel (cx, cy), in -1...1 (0 when flat).
    private func score(_ frame: TrackingFrame, _ template: (values: [Float], norm: Float, offset: Point2),
                       cx: Int, cy: Int) -> Float {
        let h = side / 2
        var sum: Float = 0, sumSquares: Float = 0, dot: Float = 0
        frame.pixels.withUnsafeBufferPointer { p in
            template.values.withUnsafeBufferPointer { t in
                var ti = 0
                for y in (cy - h) ... (cy + h) {
                    let row = min(max(y, 0), frame.height - 1) * frame.width
                    for x in (cx - h) ... (cx + h) {
                        let v = p[row + min(max(x, 0), frame.width - 1)]
                        sum += v; sumSquares += v * v; dot += v * t[ti]
                        ti += 1
                    }
                }
            }
        }
        let count = Float(side * side)
        let variance = sumSquares - sum * sum / count
        guard variance > 1e-12, template.norm > 1e-12 else { return 0 }
        return dot / (variance.squareRoot() * template.norm)
    }

    /// The vertex of the parabola through (-1, a), (0, b), (1, c), clamped to ±0.5.
    static func parabolaPeak(_ a: Float, _ b: Float, _ c: Float) -> Float {
        let curvature = a - 2 * b + c
        guard curvature < 0 else { return 0 }
        return min(0.5, max(-0.5, 0.5 * (a - c) / curvature))
    }

    /// The [side, side] patch centred on pixel (cx, cy), edges replicated outside the frame.
    static func patch(_ frame: TrackingFrame, cx: Int, cy: Int, side: Int) -> [Float] {
        let h = side / 2
        var out: [Float] = []
        out.reserveCapacity(side * side)
        for y in (cy - h) ... (cy + h) {
            let row = min(max(y, 0), frame.height - 1) * frame.width
            for x in (cx - h) ... (cx + h) { out.append(frame.pixels[row + min(max(x, 0), frame.width - 1)]) }
        }
        return out
    }
}
