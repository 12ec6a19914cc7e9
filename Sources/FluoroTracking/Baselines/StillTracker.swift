import FluoroShards

/// The trivial baseline ("still"): every frame's estimate is the first frame's landmarks. Its
/// error is how far the landmarks move, the floor any real tracker must beat.
public final class StillTracker: LandmarkTracker {
    public let name = "still"
    private var landmarks: [Point2] = []

    public init() {}

    public func start(first: TrackingFrame, landmarks: [Point2]) throws {
        self.landmarks = landmarks
    }

    public func track(_ frame: TrackingFrame) throws -> [LandmarkEstimate] {
        landmarks.map { LandmarkEstimate(point: $0) }
    }

    /// One-step evaluation: hold the previous frame's truth (its error is the motion per frame).
    public func correct(to truth: [Point2]) { landmarks = truth }
}
