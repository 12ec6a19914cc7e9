import FluoroDistributed
import FluoroSupport
import FluoroTensor
import Foundation
import Testing
@testable import FluoroTraining

/// A full disk (issue 10, item 8): metrics and TensorBoard records that do not fit are dropped
/// whole and training goes on; a checkpoint that does not fit is removed, the last complete one
/// kept; only the final checkpoint failing ends the run, naming the one kept.
@Suite(.serialized) struct FullDiskTests {
    static func scratch() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fluoro-fulldisk-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// A metrics line that does not fit leaves no part of itself; the next one that fits follows the last whole line.
    @Test func metricsLineIsWrittenWholeOrNotAtAll() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let log = try MetricsLog(runDirectory: dir)
        try log.write(["step": 1])
        var thrown: Error?
        DurableFile.withSimulatedFreeBytes(5) {
            do { try log.write(["step": 2, "loss": 0.5]) } catch { thrown = error }
        }
        #expect((thrown as? DurableFileError)?.isDiskFull == true)
        try log.write(["step": 3])
        #expect(try String(contentsOf: log.url, encoding: .utf8) == "{\"step\":1}\n{\"step\":3}\n")
    }

    /// A failed write is counted and training goes on; an error that is not a failed write (a bug) still ends the run.
    @Test func onlyFailedWritesAreDropped() throws {
        let reports = ReportWrites()
        try reports.attempt("metrics.jsonl", step: 1) { throw DurableFileError.io(path: "m", operation: "write", errno: ENOSPC) }
        try reports.attempt("metrics.jsonl", step: 2) { throw DurableFileError.io(path: "m", operation: "write", errno: ENOSPC) }
        try reports.attempt("metrics.jsonl", step: 3) {}
        #expect(reports.dropped == 2)
        #expect(throws: CocoaError.self) { try reports.attempt("metrics.jsonl", step: 4) { throw CocoaError(.coderInvalidValue) } }
        #expect(reports.dropped == 2)
    }

    /// metrics.jsonl on a device that is always full (/dev/full: ENOSPC from the kernel): the run
    /// trains to the end and writes its checkpoint.
    @Test func metricsOnAFullDeviceDoNotEndTraining() throws {
        Parallel.configure(threads: 1)
        let dir = try PretrainerTests.makeDataset()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = dir.appendingPathComponent("run")
        try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: run.appendingPathComponent("metrics.jsonl").path, withDestinationPath: "/dev/full")
        var options = PretrainerTests.options(dir, run: "run", steps: 6)
        options.panelClips = 0
        let summary = try Pretrainer(options: options, communicator: LocalCommunicator()).run()
        #expect(summary.lastStep == 6)
        #expect(CheckpointStore(runDirectory: run).completeSteps() == [6])
    }

    /// A disk that fills after the step-4 checkpoint: the metrics stop (whole lines only), training
    /// goes on, the step-8 checkpoint fails and is removed, and the final one failing ends the run
    /// naming step 4's, which stays complete and loadable.
    @Test func fullDiskKeepsTheLastCompleteCheckpoint() throws {
        Parallel.configure(threads: 1)
        let dir = try PretrainerTests.makeDataset()
        defer { try? FileManager.default.removeItem(at: dir) }
        // What a run writes up to its step-4 checkpoint, measured on a large simulated disk.
        var probe = PretrainerTests.options(dir, run: "probe", steps: 9)
        probe.panelClips = 0
        probe.stopAtStep = 4
        let large = DurableFile.SimulatedDisk(freeBytes: 1 << 30)
        _ = try DurableFile.withSimulatedDisk(large) { try Pretrainer(options: probe, communicator: LocalCommunicator()).run() }
        let upToCheckpoint = (1 << 30) - large.freeBytes
        // Room for that and about two more steps of metrics and TensorBoard records.
        var options = PretrainerTests.options(dir, run: "run", steps: 9)
        options.panelClips = 0
        options.settings.checkpointEvery = 4
        var thrown: Error?
        DurableFile.withSimulatedFreeBytes(upToCheckpoint + 1_200) {
            do { _ = try Pretrainer(options: options, communicator: LocalCommunicator()).run() } catch { thrown = error }
        }
        let store = CheckpointStore(runDirectory: dir.appendingPathComponent("run"))
        guard case let .checkpointFailed(step, _, last)? = thrown as? TrainingError else {
            Issue.record("expected the final checkpoint to fail, got \(String(describing: thrown))")
            return
        }
        #expect(step == 9)
        #expect(last == store.directory.appendingPathComponent("step-00000004").path)
        #expect(store.completeSteps() == [4])
        #expect(try store.latest().step == 4)
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.directory.path) == ["step-00000004"])
        let text = try String(contentsOf: dir.appendingPathComponent("run/metrics.jsonl"), encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        let steps = try lines.map { line -> Int in
            let record = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "a broken line: \(line)")
            return try #require((record["step"] as? NSNumber)?.intValue)
        }
        #expect(text.hasSuffix("\n"))
        #expect(steps.count >= 4 && steps.count < 9, "the disk filled, yet \(steps.count) of 9 lines were written")
        #expect(steps == Array(1..<(steps.count + 1)))
    }
}
