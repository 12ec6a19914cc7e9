import FluoroShards
import Foundation

/// Which kind of landmark a record measures (METHOD §11 reports them apart).
public enum LandmarkKind: String, Codable, Sendable, CaseIterable {
    /// The catheter tip (task `tip`).
    case tip
    /// One of the balloon's two radiopaque markers (task `markers`).
    case marker

    /// The kind a task's landmarks are.
    public init(task: TrackingTask) { self = task == .tip ? .tip : .marker }
}

/// How a run's first-frame landmarks were obtained (reported apart).
public enum Initialisation: String, Codable, Sendable, CaseIterable {
    /// The ground truth of frame 0.
    case manual
    /// A `LandmarkDetector` on frame 0.
    case auto
}

/// The failure criterion of METHOD §11: an error above 3 mm, or where the pixel spacing is unknown
/// the paper's equivalent 10 px at a 512-px frame (150 mm field), i.e. 10 · side / 512 px.
public enum FailureCriterion {
    /// Failure threshold in millimetres.
    public static let thresholdMm: Double = 3
    /// Failure threshold in pixels at a 512-px frame, used when the spacing is unknown.
    public static let thresholdPxAt512: Double = 10

    /// The pixel threshold for a frame of `side` pixels (its larger dimension).
    public static func thresholdPx(frameSide side: Int) -> Double { thresholdPxAt512 * Double(side) / 512 }

    /// Whether an error counts as a failure: by millimetres when known, else by scaled pixels.
    public static func failed(errorPx: Double, errorMm: Double?, frameSide: Int) -> Bool {
        if let errorMm { return errorMm > thresholdMm }
        return errorPx > thresholdPx(frameSide: frameSide)
    }
}

/// One landmark in one frame of one run: the tracker's estimate against the truth.
public struct TrackingRecord: Codable, Sendable, Equatable {
    /// The run's (de-identified) sequence id.
    public var run: String
    /// Frame index in the run (0 is the initialisation and is left out of every statistic).
    public var frame: Int
    public var kind: LandmarkKind
    /// Index of the landmark in the task (0 for the tip; 0 or 1 for the markers).
    public var landmark: Int
    /// Estimate and truth in full-frame pixels.
    public var estimate: Point2
    public var truth: Point2
    /// Euclidean error in pixels of the stored frame.
    public var errorPx: Double
    /// Euclidean error in millimetres (nil when the run's pixel spacing is unknown).
    public var errorMm: Double?
    /// The frame's annotation flags a landmark as occluded.
    public var occluded: Bool
    /// The tracker flagged this estimate as lost.
    public var lost: Bool
    public var initialisation: Initialisation
    /// The frame's larger side in pixels (sets the pixel failure threshold when mm are unknown).
    public var frameSide: Int

    /// A record with the errors computed from `estimate`, `truth` and the spacing
    /// (`spacingMm` = [row, column] mm per pixel, as `SequenceInfo.pixelSpacingMm`).
    public init(run: String, frame: Int, kind: LandmarkKind, landmark: Int, estimate: Point2, truth: Point2,
                spacingMm: [Double]?, occluded: Bool, lost: Bool, initialisation: Initialisation, frameSide: Int) {
        self.run = run; self.frame = frame; self.kind = kind; self.landmark = landmark
        self.estimate = estimate; self.truth = truth
        let dx = Double(estimate.x - truth.x), dy = Double(estimate.y - truth.y)
        errorPx = (dx * dx + dy * dy).squareRoot()
        if let s = spacingMm, s.count == 2, s[0] > 0, s[1] > 0 {
            errorMm = ((dx * s[1]) * (dx * s[1]) + (dy * s[0]) * (dy * s[0])).squareRoot()
        } else {
            errorMm = nil
        }
        self.occluded = occluded; self.lost = lost; self.initialisation = initialisation; self.frameSide = frameSide
    }

    /// Whether this record is a failure under `FailureCriterion`.
    public var failed: Bool { FailureCriterion.failed(errorPx: errorPx, errorMm: errorMm, frameSide: frameSide) }
}
