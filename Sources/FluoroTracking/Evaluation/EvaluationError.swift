import Foundation

/// Why an evaluation cannot run, with what to do about it.
public enum EvaluationError: Error, CustomStringConvertible {
    /// No run of the dataset has the task's landmarks on its first frame.
    case noAnnotatedRuns(directory: String, task: TrackingTask, sequences: Int)
    /// A tracker or detector returned the wrong number of landmarks.
    case wrongLandmarkCount(method: String, run: String, frame: Int, expected: Int, got: Int)

    public var description: String {
        switch self {
        case let .noAnnotatedRuns(directory, task, sequences):
            let what = task == .tip ? "a catheter tip" : "both balloon markers"
            return "\(directory): none of its \(sequences) sequence(s) has \(what) annotated on frame 0, so there is "
                + "nothing to evaluate for --task \(task.rawValue). Use a dataset with landmark annotations "
                + "(e.g. `fluoro synth --kind fluoro`) or the other task."
        case let .wrongLandmarkCount(method, run, frame, expected, got):
            return "\(method) returned \(got) landmark(s) for run \(run) frame \(frame); the task has \(expected)"
        }
    }
}
