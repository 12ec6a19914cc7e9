import Foundation
import Testing

/// `fluoro pretrain --resume` as users type it: which total a resumed run keeps.
@Suite(.serialized) struct PretrainResumeCommandTests {
    static func arguments(_ dir: URL, stallTimeout: Int = 0, extra: [String]) -> [String] {
        ["pretrain", "--shards", dir.appendingPathComponent("shards").path, "--run", dir.appendingPathComponent("run").path,
         "--batch", "1", "--threads", "1", "--loader-workers", "1", "--stall-timeout", "\(stallTimeout)"] + extra
    }

    /// Without --steps a resume keeps the run's own total (not the default 200); with it, it retargets.
    @Test func resumeLatestWithoutStepsKeepsTheRunsTotal() throws {
        let dir = try PretrainCommandTests.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = try FluoroBinary.run(Self.arguments(dir, extra: ["--steps", "6", "--stop-at", "3"]))
        #expect(first.status == 0, "\(first.stderr)")
        let resumed = try FluoroBinary.run(Self.arguments(dir, extra: ["--resume", "latest"]))
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stdout.contains("steps 3->6"), "\(resumed.stdout)")
        #expect(resumed.stdout.contains("6 steps"))
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("run/config.json"))) as? [String: Any]
        #expect(config?["steps"] as? Int == 6)

        let longer = try FluoroBinary.run(Self.arguments(dir, extra: ["--resume", "latest", "--steps", "8"]))
        #expect(longer.status == 0, "\(longer.stderr)")
        #expect(longer.stdout.contains("steps 6->8"), "\(longer.stdout)")
    }
}

/// Runs shorter than a clip are skipped and counted, not an error (issue 10, item 12).
@Suite(.serialized) struct ShortRunsCommandTests {
    @Test func shortRunsAreSkippedAndCountedInTheOutputAndConfig() throws {
        let dir = try PretrainCommandTests.workspace()  // 6 sequences of 12 frames
        defer { try? FileManager.default.removeItem(at: dir) }
        let short = try FluoroBinary.run(["synth", "--out", dir.appendingPathComponent("shards").path, "--sequences", "2",
                                          "--frames", "3", "--size", "64", "--seed", "6"])
        #expect(short.status == 0, "\(short.stderr)")
        let run = try FluoroBinary.run(PretrainResumeCommandTests.arguments(dir, extra: ["--steps", "2"]))
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("6 of 8 sequences (2 shorter than 4 frames skipped)"), "\(run.stdout)")
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("run/config.json"))) as? [String: Any]
        let dataset = try #require(config?["dataset"] as? [String: Any])
        #expect(dataset["skipped_short_sequences"] as? Int == 2)
        #expect(dataset["trainable_sequences"] as? Int == 6)
        #expect((dataset["skipped"] as? [[String: Any]])?.map { $0["frames"] as? Int } == [3, 3])
        #expect(config?["steps"] as? Int == 2)
    }
}

/// The stall watchdog watches the step right after a checkpoint (issue 10, item 2).
@Suite(.serialized) struct WatchdogAfterCheckpointTests {
    @Test func aHangRightAfterACheckpointEndsTheJob() throws {
        let dir = try PretrainCommandTests.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        var env = FluoroBinary.cleanEnvironment
        env["FLUORO_FAULT"] = "rank=0,step=2,kind=hang"
        let arguments = PretrainResumeCommandTests.arguments(dir, stallTimeout: 2, extra: ["--steps", "5", "--checkpoint-every", "1"])
        let result = try FluoroBinary.run(arguments, environment: env, timeout: 90)
        #expect(result.status == 75, "status \(result.status): \(result.stderr)")
        #expect(result.stderr.contains("at step 2"), "\(result.stderr)")
    }
}

/// A run stopped from outside (SIGSTOP, Ctrl-Z) and continued later is not a stalled rank: the
/// watchdog counts from when the process runs again.
@Suite(.serialized) struct WatchdogAfterSuspensionTests {
    @Test func aRunStoppedLongerThanTheTimeoutCarriesOnWhenContinued() throws {
        let dir = try PretrainCommandTests.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let process = Process()
        process.executableURL = FluoroBinary.url
        process.arguments = PretrainResumeCommandTests.arguments(dir, stallTimeout: 2, extra: ["--steps", "400", "--log-every", "1"])
        process.environment = FluoroBinary.cleanEnvironment
        process.standardOutput = FileHandle.nullDevice
        let errors = dir.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        // Wait for the first logged step, so the stop lands mid-run.
        let metrics = dir.appendingPathComponent("run/metrics.jsonl")
        let started = Date()
        while process.isRunning && ((try? String(contentsOf: metrics, encoding: .utf8))?.isEmpty ?? true) && Date().timeIntervalSince(started) < 120 {
            usleep(50_000)
        }
        try #require(process.isRunning, "the run ended before it could be stopped")
        kill(process.processIdentifier, SIGSTOP)
        sleep(8)  // 4x the stall timeout
        kill(process.processIdentifier, SIGCONT)
        let deadline = Date().addingTimeInterval(240)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        let stderr = (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
        #expect(!process.isRunning && process.terminationStatus == 0, "status \(process.terminationStatus): \(stderr)")
        #expect(!stderr.contains("no progress"), "\(stderr)")
    }
}
