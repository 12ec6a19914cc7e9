import FluoroShards

/// What is tracked (METHOD §10): the catheter tip (K = 1) or the balloon's marker pair (K = 2).
public enum TrackingTask: String, Codable, Sendable, CaseIterable {
    case tip
    case markers

    /// Landmarks per frame, K.
    public var landmarkCount: Int { self == .tip ? 1 : 2 }

    /// The landmarks of this task in one annotated frame (nil when the frame does not show them all).
    public func landmarks(in annotation: FrameAnnotation) -> [Point2]? {
        switch self {
        case .tip: return annotation.tip.map { [$0] }
        case .markers: return annotation.markers.count == 2 ? annotation.markers : nil
        }
    }
}

/// One frame handed to a tracker: pixels scaled to [0, 1] by the stored bit depth, row-major [H, W].
public struct TrackingFrame: Sendable {
    public var pixels: [Float]
    public var width: Int
    public var height: Int
    public init(pixels: [Float], width: Int, height: Int) {
        precondition(pixels.count == width * height, "TrackingFrame: \(pixels.count) pixels for \(width)x\(height)")
        self.pixels = pixels; self.width = width; self.height = height
    }
}

/// One landmark's estimate in one frame, in full-frame pixels (x right, y down, pixel centres at
/// integer + 0.5 as the simulator's labels), and whether the tracker lost it there.
public struct LandmarkEstimate: Sendable, Equatable {
    public var point: Point2
    public var lost: Bool
    public init(point: Point2, lost: Bool = false) { self.point = point; self.lost = lost }
}

/// An online tracker: the estimate for frame t uses frames 0...t only (METHOD §10). HiFT and the
/// classic baselines (NCC template matching, holding still) all conform, so one evaluation
/// measures them alike.
public protocol LandmarkTracker: AnyObject {
    /// A short name for reports ("hift", "ncc", "still").
    var name: String { get }
    /// Starts a run on its first frame with the K initial landmarks (full-frame pixels).
    func start(first: TrackingFrame, landmarks: [Point2]) throws
    /// The K estimates in the next frame of the run.
    func track(_ frame: TrackingFrame) throws -> [LandmarkEstimate]
    /// Replaces the last frame's estimates by `truth` before the next `track` (one-step, or
    /// teacher-forced, evaluation: each frame's error without the drift of earlier ones).
    func correct(to truth: [Point2])
}

/// Automatic initialisation: the K landmarks of a run's first frame, in full-frame pixels.
public protocol LandmarkDetector: AnyObject {
    func detect(first: TrackingFrame, count: Int) throws -> [Point2]
}
