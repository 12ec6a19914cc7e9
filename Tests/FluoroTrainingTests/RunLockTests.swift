import FluoroDistributed
import FluoroTensor
import Foundation
import Testing
@testable import FluoroTraining

/// One job per run directory (issue 10, item 6).
@Suite(.serialized) struct RunLockTests {
    private func writeLock(_ run: URL, pid: Int32, host: String = ProcessInfo.processInfo.hostName) throws {
        try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
        let holder = RunLock.Holder(pid: pid, host: host, since: "2026-01-01T00:00:00Z")
        try JSONEncoder().encode(holder).write(to: run.appendingPathComponent(RunLock.fileName))
    }

    /// The pid of a process that has ended.
    private func deadPID() throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        process.waitUntilExit()
        return process.processIdentifier
    }

    @Test func aLiveHolderIsNamedAndTheRunRefused() throws {
        Parallel.configure(threads: 1)
        let dir = try PretrainerTests.makeDataset()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = dir.appendingPathComponent("run")
        try writeLock(run, pid: getpid())
        #expect { try Pretrainer(options: PretrainerTests.options(dir, run: "run", steps: 2), communicator: LocalCommunicator()).run() } throws: {
            "\($0)".contains("pid \(getpid()) on \(ProcessInfo.processInfo.hostName)")
        }
        #expect(!FileManager.default.fileExists(atPath: run.appendingPathComponent("metrics.jsonl").path))
        // A holder on another host cannot be checked: refused too, saying how to clear it.
        try writeLock(run, pid: 1, host: "some-other-node")
        #expect { try RunLock.acquire(runDirectory: run) } throws: { "\($0)".contains("some-other-node") && "\($0)".contains("remove") }
    }

    @Test func aStaleLockIsTakenOverAndReleasedAtTheEnd() throws {
        Parallel.configure(threads: 1)
        let dir = try PretrainerTests.makeDataset()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = dir.appendingPathComponent("run")
        try writeLock(run, pid: try deadPID())
        let summary = try Pretrainer(options: PretrainerTests.options(dir, run: "run", steps: 2), communicator: LocalCommunicator()).run()
        #expect(summary.lastStep == 2)
        #expect(!FileManager.default.fileExists(atPath: run.appendingPathComponent(RunLock.fileName).path))
        // While held, a second claim fails; after release it succeeds.
        let held = try RunLock.acquire(runDirectory: run)
        #expect(throws: RunLockError.self) { try RunLock.acquire(runDirectory: run) }
        held.release()
        try RunLock.acquire(runDirectory: run).release()
    }
}
