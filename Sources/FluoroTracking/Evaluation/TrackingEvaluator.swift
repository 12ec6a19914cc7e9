import FluoroShards
import Foundation

/// One tracker's evaluation over a test set: every record, their summary and the speed.
public struct TrackingEvaluation: Codable, Sendable {
    /// The tracker's name ("ncc", "still", "hift").
    public var method: String
    public var task: TrackingTask
    public var summary: TrackingSummary
    /// Frames per second of the tracker's `track` calls (wall clock, batch 1).
    public var fps: Double
    /// `track` calls timed and the seconds they took.
    public var trackedFrames: Int
    public var trackSeconds: Double
    /// Compute threads stated for the run (the evaluator does not set them).
    public var threads: Int
    /// One record per landmark and annotated frame, frame 0 included (summaries skip it).
    public var records: [TrackingRecord]
}

/// Runs a `LandmarkTracker` over every run of a shard dataset annotated for a task (METHOD §11):
/// initialised from frame 0's truth (manual) or a detector (auto), online over the remaining
/// frames, each estimate compared with the truth where the frame has it.
public struct TrackingEvaluator {
    public var task: TrackingTask
    /// When set, runs start from its detections (automatic initialisation) instead of the truth.
    public var detector: LandmarkDetector?
    /// Threads the caller gave the tracker, stated in the result.
    public var threads: Int
    /// One-step evaluation: after each frame the tracker is corrected to the truth, so every error
    /// is one frame's, free of earlier drift; the method is reported as "<name>-1step".
    public var oneStep = false

    public init(task: TrackingTask, detector: LandmarkDetector? = nil, threads: Int = 1) {
        self.task = task; self.detector = detector; self.threads = threads
    }

    /// Sequence indices of `dataset` whose frame 0 carries the task's landmarks.
    public func annotatedRuns(in dataset: ShardDataset) throws -> [Int] {
        try (0 ..< dataset.sequenceCount).filter { index in
            guard let first = try dataset.annotations(sequence: index).first else { return false }
            return task.landmarks(in: first) != nil
        }
    }

    /// Evaluates `tracker` on every annotated run of `dataset`; `progress` gets each finished run's id.
    public func evaluate(_ tracker: LandmarkTracker, on dataset: ShardDataset,
                         progress: ((String) -> Void)? = nil) throws -> TrackingEvaluation {
        let runs = try annotatedRuns(in: dataset)
        guard !runs.isEmpty else {
            throw EvaluationError.noAnnotatedRuns(directory: dataset.directory.path, task: task,
                                                  sequences: dataset.sequenceCount)
        }
        var records: [TrackingRecord] = []
        var seconds = 0.0, tracked = 0
        for index in runs {
            let run = try evaluateRun(tracker, dataset: dataset, sequence: index)
            records += run.records; seconds += run.seconds; tracked += run.tracked
            progress?(dataset.info(sequence: index).id)
        }
        return TrackingEvaluation(method: oneStep ? "\(tracker.name)-1step" : tracker.name, task: task, summary: TrackingSummary(records: records),
                                  fps: seconds > 0 ? Double(tracked) / seconds : 0, trackedFrames: tracked,
                                  trackSeconds: seconds, threads: threads, records: records)
    }

    /// One run: its records, the seconds spent in `track` and how many calls.
    func evaluateRun(_ tracker: LandmarkTracker, dataset: ShardDataset,
                     sequence index: Int) throws -> (records: [TrackingRecord], seconds: Double, tracked: Int) {
        let info = dataset.info(sequence: index)
        let annotations = try dataset.annotations(sequence: index)
        let frames = try TrackingFrame.frames(of: dataset, sequence: index)
        let truth0 = task.landmarks(in: annotations[0])!
        let (initial, initialisation) = try initialLandmarks(frames[0], truth: truth0, run: info.id, method: tracker.name)
        try tracker.start(first: frames[0], landmarks: initial)
        var records = makeRecords(initial.map { LandmarkEstimate(point: $0) }, frame: 0, info: info,
                                  annotation: annotations[0], initialisation: initialisation)
        var seconds = 0.0
        for t in 1 ..< max(1, info.frameCount) {
            let began = DispatchTime.now().uptimeNanoseconds
            let estimates = try tracker.track(frames[t])
            seconds += Double(DispatchTime.now().uptimeNanoseconds - began) * 1e-9
            guard estimates.count == task.landmarkCount else {
                throw EvaluationError.wrongLandmarkCount(method: tracker.name, run: info.id, frame: t,
                                                         expected: task.landmarkCount, got: estimates.count)
            }
            if t < annotations.count {
                records += makeRecords(estimates, frame: t, info: info, annotation: annotations[t],
                                       initialisation: initialisation)
                if oneStep, let truth = task.landmarks(in: annotations[t]) { tracker.correct(to: truth) }
            }
        }
        return (records, seconds, max(0, info.frameCount - 1))
    }

    /// The first frame's landmarks: the truth, or the detector's, ordered to match the truth
    /// (marker identity is arbitrary, so the cheaper pairing is used).
    func initialLandmarks(_ first: TrackingFrame, truth: [Point2], run: String,
                          method: String) throws -> ([Point2], Initialisation) {
        guard let detector else { return (truth, .manual) }
        let found = try detector.detect(first: first, count: task.landmarkCount)
        guard found.count == truth.count else {
            throw EvaluationError.wrongLandmarkCount(method: "\(method) detector", run: run, frame: 0,
                                                     expected: truth.count, got: found.count)
        }
        if found.count == 2 {
            let straight = distance(found[0], truth[0]) + distance(found[1], truth[1])
            let swapped = distance(found[1], truth[0]) + distance(found[0], truth[1])
            if swapped < straight { return ([found[1], found[0]], .auto) }
        }
        return (found, .auto)
    }

    /// Records of one frame (none when the frame lacks the task's truth).
    func makeRecords(_ estimates: [LandmarkEstimate], frame: Int, info: SequenceInfo,
                     annotation: FrameAnnotation, initialisation: Initialisation) -> [TrackingRecord] {
        guard let truth = task.landmarks(in: annotation) else { return [] }
        return zip(estimates, truth).enumerated().map { k, pair in
            TrackingRecord(run: info.id, frame: frame, kind: LandmarkKind(task: task), landmark: k,
                           estimate: pair.0.point, truth: pair.1, spacingMm: info.pixelSpacingMm,
                           occluded: annotation.occluded, lost: pair.0.lost, initialisation: initialisation,
                           frameSide: max(info.width, info.height))
        }
    }

    private func distance(_ a: Point2, _ b: Point2) -> Float { hypot(a.x - b.x, a.y - b.y) }
}
