import FluoroSupport
import Foundation

extension Pretrainer {
    /// The reconstruction panel after a checkpoint and every `imagesEvery` steps (rank 0 renders
    /// while the others wait at a barrier, the watchdog paused; it counts again right after).
    func panelIfDue(_ s: TrainingSession, checkpointed: Bool) throws {
        let byStep = options.imagesEvery.map { s.step % $0 == 0 } ?? false
        guard checkpointed || byStep, s.step < s.total, options.panelClips > 0 else { return }
        s.watchdog.pause()
        if isCoordinator { renderPanel(s) }
        try communicator.barrier()
        s.watchdog.resume()
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
