import FluoroShards
import FluoroTensor
import Foundation

/// HiFT tracking a run online (METHOD §10), one frame at a time: the window of the last W frames
/// (padded with the first frame and its estimate at the start of a run), a crop that stays put
/// until an estimate comes within Sc·30/256 px of its border and then re-centres on the
/// estimates' mean, the model at batch 1 without the auxiliary head, and the read-out. A landmark
/// the read-out does not find keeps its previous estimate and is flagged lost. With two landmarks
/// the read-out's components are assigned to the landmarks by the nearer previous estimates.
public final class HiFTTracker: LandmarkTracker {
    public let name: String
    let model: HiFT
    var config: HiFTConfig { model.config }
    var scale = WorkingScale(width: 1, height: 1, crop: 1)
    /// The last W working-scale frames and their estimates (working index coordinates), oldest first.
    var frames: [TrackingFrame] = []
    var estimates: [[(x: Float, y: Float)]] = []
    /// The crop's centre (working index coordinates).
    var centre: (x: Float, y: Float) = (0, 0)
    let window: FloatBuffer  // [1, W, Sc, Sc]
    var past: [Float]        // [1, W-1, K, 2]
    /// Width (crop pixels) of the read-out's motion prior around the previous estimates; nil: off
    /// (METHOD §10's read-out exactly). See `HeatmapReadOut.MotionPrior`.
    public let motionPrior: Float?
    /// Keep each frame's crop and heatmap in `lastHeatmap` (for `fluoro track --heatmaps`); off by default.
    public var keepsHeatmap = false
    /// The last tracked frame's crop and heatmap, when `keepsHeatmap`.
    public private(set) var lastHeatmap: CropHeatmap?

    /// A tracker around a batch-1 model.
    public init(model: HiFT, name: String = "hift", motionPrior: Float? = nil) {
        precondition(model.batch == 1, "HiFTTracker needs a batch-1 model")
        self.model = model
        self.name = name
        self.motionPrior = motionPrior
        window = FloatBuffer(count: model.config.window * model.config.crop * model.config.crop)
        past = [Float](repeating: .nan, count: (model.config.window - 1) * model.config.landmarks * 2)
    }

    public func start(first: TrackingFrame, landmarks: [Point2]) throws {
        guard landmarks.count == config.landmarks else {
            throw TrackingInputError.wrongLandmarkCount(expected: config.landmarks, got: landmarks.count)
        }
        for p in landmarks where !(0...Float(first.width)).contains(p.x) || !(0...Float(first.height)).contains(p.y) {
            throw TrackingInputError.outsideFrame(x: p.x, y: p.y, width: first.width, height: first.height)
        }
        scale = WorkingScale(width: first.width, height: first.height, crop: config.crop)
        frames = [scale.resize(first)]
        estimates = [landmarks.map { scale.toWorking($0) }]
        centre = Self.mean(estimates[0])
    }

    public func track(_ frame: TrackingFrame) throws -> [LandmarkEstimate] {
        guard !frames.isEmpty else { throw TrackingInputError.notStarted }
        frames.append(scale.resize(frame))
        if frames.count > config.window { frames.removeFirst() }
        let origin = CropWindow.origin(centreX: centre.x, centreY: centre.y, crop: config.crop)
        fillWindow(origin: origin)
        let heat = past.withUnsafeBufferPointer { model.forward(window: UnsafePointer(window.pointer), past: $0.baseAddress!, auxiliary: false).heatmap }
        let previous = estimates.last!
        let prior = motionPrior.map { sigma in
            HeatmapReadOut.MotionPrior(previous: previous.map { (Double($0.x) - Double(origin.x), Double($0.y) - Double(origin.y)) },
                                       sigma: Double(sigma))
        }
        let found = HeatmapReadOut.landmarks(logits: heat, height: config.crop, width: config.crop, count: config.landmarks, prior: prior)
        if keepsHeatmap { lastHeatmap = CropHeatmap(origin: origin, side: config.crop, logits: heat, frame: window.pointer + (config.window - 1) * config.crop * config.crop) }
        let assigned = Self.assign(found.map { $0.map { (Float($0.x) + Float(origin.x), Float($0.y) + Float(origin.y)) } }, to: previous)
        // An estimate stays on the frame (a read-out at the crop's zero padding cannot leave it).
        let now = zip(assigned, previous).map { found, kept in
            let p = found ?? kept
            return (x: min(max(p.x, 0), Float(scale.width - 1)), y: min(max(p.y, 0), Float(scale.height - 1)))
        }
        estimates.append(now)
        if estimates.count > config.window { estimates.removeFirst() }
        updateCrop(origin: origin, estimates: now)
        return zip(now, assigned).map { LandmarkEstimate(point: scale.toFrame(x: $0.x, y: $0.y), lost: $1 == nil) }
    }

    /// The last estimates in working-scale frame pixels (the coordinates of `lastHeatmap.origin`).
    public var workingEstimates: [(x: Float, y: Float)] { estimates.last ?? [] }

    /// A point of the stored frame in working-scale pixels.
    public func workingPoint(_ p: Point2) -> (x: Float, y: Float) { scale.toWorking(p) }

    /// One-step evaluation: the last estimates become `truth` and the crop follows its rule for them.
    public func correct(to truth: [Point2]) {
        guard !estimates.isEmpty, truth.count == config.landmarks else { return }
        let origin = CropWindow.origin(centreX: centre.x, centreY: centre.y, crop: config.crop)
        estimates[estimates.count - 1] = truth.map { scale.toWorking($0) }
        updateCrop(origin: origin, estimates: estimates[estimates.count - 1])
    }

    /// The window [W, Sc, Sc] and past estimates [W-1, K, 2] in crop coordinates, padded at the start.
    func fillWindow(origin: (x: Int, y: Int)) {
        let W = config.window, P = config.crop * config.crop, K = config.landmarks
        let missing = W - frames.count
        for f in 0..<W {
            let i = max(0, f - missing)
            CropWindow.cut(frames[i], origin: origin, crop: config.crop, into: window.pointer + f * P)
        }
        CropWindow.standardise(window.pointer, count: W * P)
        // Estimates of frames t-W+1 … t-1: `estimates` holds frames up to t-1 (the current one is not in yet).
        let known = estimates.count, pad = (W - 1) - known
        for f in 0..<(W - 1) {
            let e = estimates[max(0, f - pad)]
            for k in 0..<K {
                past[(f * K + k) * 2] = e[k].x - Float(origin.x)
                past[(f * K + k) * 2 + 1] = e[k].y - Float(origin.y)
            }
        }
    }

    /// Re-centres the crop on the estimates' mean when one comes within Sc·30/256 px of its border.
    func updateCrop(origin: (x: Int, y: Int), estimates now: [(x: Float, y: Float)]) {
        let S = Float(config.crop), margin = S * 30 / 256
        let nearBorder = now.contains { p in
            let u = p.x - Float(origin.x), v = p.y - Float(origin.y)
            return u < margin || v < margin || u > S - 1 - margin || v > S - 1 - margin
        }
        if nearBorder { centre = Self.mean(now) }
    }

    static func mean(_ points: [(x: Float, y: Float)]) -> (x: Float, y: Float) {
        (points.map(\.x).reduce(0, +) / Float(points.count), points.map(\.y).reduce(0, +) / Float(points.count))
    }

    /// Assigns found points to landmarks: with two, the pairing with the smaller total distance to
    /// the previous estimates; a single found point goes to the nearer landmark.
    static func assign(_ found: [(Float, Float)?], to previous: [(x: Float, y: Float)]) -> [(x: Float, y: Float)?] {
        let points = found.compactMap { $0 }.map { (x: $0.0, y: $0.1) }
        guard previous.count == 2 else { return points.isEmpty ? [nil] : [points[0]] }
        func d(_ a: (x: Float, y: Float), _ b: (x: Float, y: Float)) -> Float { hypotf(a.x - b.x, a.y - b.y) }
        switch points.count {
        case 0: return [nil, nil]
        case 1: return d(points[0], previous[0]) <= d(points[0], previous[1]) ? [points[0], nil] : [nil, points[0]]
        default:
            let straight = d(points[0], previous[0]) + d(points[1], previous[1])
            let crossed = d(points[0], previous[1]) + d(points[1], previous[0])
            return straight <= crossed ? [points[0], points[1]] : [points[1], points[0]]
        }
    }
}

/// One tracked frame as the model saw it: the crop of the current frame (standardised over the
/// window) and the heatmap's probabilities, both [side, side] in working-scale crop pixels whose
/// top-left is `origin` (working-scale frame pixels; the working scale halves frames longer than
/// twice the crop, see `WorkingScale`).
public struct CropHeatmap: Sendable {
    public let origin: (x: Int, y: Int)
    public let side: Int
    /// The current frame's crop [side, side], standardised.
    public let frame: [Float]
    /// sigmoid(logits) [side, side].
    public let probabilities: [Float]

    init(origin: (x: Int, y: Int), side: Int, logits: UnsafePointer<Float>, frame: UnsafePointer<Float>) {
        self.origin = origin; self.side = side
        self.frame = Array(UnsafeBufferPointer(start: frame, count: side * side))
        probabilities = (0..<(side * side)).map { 1 / (1 + exp(-logits[$0])) }
    }
}

/// Bad input to a tracker, with what to do.
public enum TrackingInputError: Error, CustomStringConvertible, Equatable {
    case wrongLandmarkCount(expected: Int, got: Int)
    case outsideFrame(x: Float, y: Float, width: Int, height: Int)
    case notStarted

    public var description: String {
        switch self {
        case let .wrongLandmarkCount(expected, got):
            return "the tracker follows \(expected) landmark(s) but \(got) start point(s) were given (--init \"x,y\" for a tip, \"x1,y1;x2,y2\" for a marker pair)"
        case let .outsideFrame(x, y, width, height):
            return "start point (\(x), \(y)) lies outside the \(width)x\(height) frame; give pixel coordinates of the first frame"
        case .notStarted: return "track(_:) before start(first:landmarks:)"
        }
    }
}
