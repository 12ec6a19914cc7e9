import Foundation
import Testing

/// `fluoro pretrain --resume` as users type it: which total a resumed run keeps.
@Suite(.serialized) struct PretrainResumeCommandTests {
    static func arguments(_ dir: URL, extra: [String]) -> [String] {
        ["pretrain", "--shards", dir.appendingPathComponent("shards").path, "--run", dir.appendingPathComponent("run").path,
         "--batch", "1", "--threads", "1", "--loader-workers", "1", "--stall-timeout", "0"] + extra
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
