/// Why fine-tuning data cannot be drawn, naming the dataset and what to do.
public enum TrackingDataError: Error, CustomStringConvertible {
    /// No frame of the dataset carries the task's landmarks.
    case noAnnotations(directory: String, task: TrackingTask, sequences: Int)
    /// Every annotated run is shorter than the window.
    case windowLongerThanRuns(directory: String, window: Int, longest: Int)

    public var description: String {
        switch self {
        case let .noAnnotations(directory, task, sequences):
            return "\(directory): none of its \(sequences) sequence(s) has \(task == .tip ? "a catheter tip" : "a balloon-marker pair") annotated, so it cannot fine-tune --task \(task.rawValue). Pack clinical runs with `fluoro pack --annotations`, or make simulator runs with `fluoro synth --kind fluoro`"
        case let .windowLongerThanRuns(directory, window, longest):
            return "\(directory): the tracker's window is \(window) frames but its longest annotated run has \(longest); use a smaller \"window\" in --config or longer runs"
        }
    }
}
