import FluoroDistributed
import FluoroSupport
import Foundation

extension Pretrainer {
    /// Writes a checkpoint of the current step (coordinator only): tensors, then state.json.
    func saveCheckpoint(_ s: TrainingSession) throws -> URL {
        let state = TrainingState(step: s.step, loaderCursor: s.loader.cursor, optimizerStep: s.optimizer.step, settings: s.settings,
                                  dataset: s.fingerprint, ranks: communicator.size,
                                  trainingSeconds: s.previousSeconds + Date().timeIntervalSince(s.runStart),
                                  fluoroVersion: FluoroVersion.fluoro, writtenAt: ISO8601DateFormatter().string(from: Date()))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let tensors = CheckpointTensors.writer(parameters: s.arena, optimizer: s.optimizer,
                                               metadata: ["config": String(decoding: try encoder.encode(s.settings.model), as: UTF8.self)])
        return try store.save(step: s.step, tensors: tensors, state: encoder.encode(state))
    }

    /// The periodic checkpoint (every `checkpointEvery` steps, or when rank 0 voted one due by
    /// time); a failure is logged and training goes on with the previous checkpoint kept.
    /// Returns whether a checkpoint was due (on every rank alike).
    @discardableResult
    func checkpointIfDue(_ s: TrainingSession, timeDue: Bool) throws -> Bool {
        let byStep = s.settings.checkpointEvery.map { s.step % $0 == 0 } ?? false
        guard s.step < s.total && (byStep || timeDue) else { return false }
        // Rank 0 writes while the others wait at the barrier: not a stall. Every rank counts again
        // right after it, so a hang in the next step (loading, compute, all-reduce) is caught.
        s.watchdog.pause()
        if isCoordinator {
            do {
                s.lastCheckpoint = try saveCheckpoint(s)
                s.lastCheckpointTime = Date()
            } catch {
                Log.error("checkpoint at step \(s.step) failed: \(error); training goes on, the previous checkpoint is kept")
            }
        }
        try communicator.barrier()
        s.watchdog.resume()
        return true
    }

    /// The final checkpoint (unless this step has one) and the closing barrier.
    func finish(_ s: TrainingSession) throws {
        // Writing may take long on a slow filesystem.
        s.watchdog.pause()
        if isCoordinator && (s.lastCheckpoint?.lastPathComponent != CheckpointStore.name(step: s.step)) {
            do { s.lastCheckpoint = try saveCheckpoint(s) } catch {
                throw TrainingError.checkpointFailed(step: s.step, reason: "\(error)", lastCheckpoint: s.lastCheckpoint?.path)
            }
        }
        if isCoordinator && s.lastPanelStep != s.step { renderPanel(s) }
        if s.reports.dropped > 0 { Log.error("\(s.reports.dropped) metrics/TensorBoard record(s) could not be written (see above) and are missing") }
        if isCoordinator { s.progress.finish() }
        try communicator.barrier()
        s.watchdog.stop()
    }
}
