import FluoroSupport
import Foundation

extension Pretrainer {
    /// The reconstruction panel after a checkpoint and every `imagesEvery` steps (rank 0 renders;
    /// the others wait for it in the next all-reduce, so the watchdog pauses on every rank).
    func panelIfDue(_ s: TrainingSession, checkpointed: Bool) throws {
        let byStep = options.imagesEvery.map { s.step % $0 == 0 } ?? false
        guard checkpointed || byStep, s.step < s.total else { return }
        s.watchdog.pause()
        if isCoordinator { renderPanel(s) }
    }

    /// Renders and saves the panel of the current step; a failure is logged, training goes on.
    func renderPanel(_ s: TrainingSession) {
        guard let views = s.views else { return }
        do {
            try views.save(values: s.arena.values, step: s.step, tensorBoard: s.tensorBoard)
            s.lastPanelStep = s.step
        } catch {
            Log.error("the reconstruction panel at step \(s.step) failed: \(error); training goes on")
        }
    }
}
