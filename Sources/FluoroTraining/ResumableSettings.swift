/// Settings of a run that checkpoints and resumes (the U-Net labeller's, the tracker's): the step
/// budget and checkpoint cadence, which a resume may change, and the global batch, which it keeps
/// while the ranks it is split over may change.
public protocol ResumableSettings {
    var steps: Int { get set }
    var checkpointEvery: Int? { get set }
    var batchPerRank: Int { get set }
    var ranks: Int { get set }
}

extension ResumableSettings {
    /// The global batch: batchPerRank x ranks.
    public var globalBatch: Int { batchPerRank * ranks }

    /// These settings (a checkpoint's, at `step`) continued on `ranks` ranks with the budget and
    /// cadence asked on the command line (nil keeps the run's). Throws naming `run` when the global
    /// batch does not divide over the ranks or the checkpoint is past the budget.
    public func resumed(at step: Int, steps asked: Int?, checkpointEvery askedEvery: Int?, ranks newRanks: Int,
                        run: String) throws -> Self {
        var s = self
        s.steps = asked ?? steps
        s.checkpointEvery = askedEvery ?? checkpointEvery
        guard globalBatch % newRanks == 0 else {
            throw TrainingError.incompatibleResume(run: run, reason: "its global batch \(globalBatch) does not divide over \(newRanks) ranks; run it on a divisor of \(globalBatch)")
        }
        s.batchPerRank = globalBatch / newRanks
        s.ranks = newRanks
        guard step <= s.steps else {
            throw TrainingError.incompatibleResume(run: run, reason: "the checkpoint is at step \(step), past --steps \(s.steps)")
        }
        return s
    }
}
