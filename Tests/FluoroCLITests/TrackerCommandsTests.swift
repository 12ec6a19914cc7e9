import FluoroTensor
import Foundation
import Testing

/// The tracker's commands as a user runs them: fine-tune (with the detector), evaluate the model
/// beside the baselines with manual and automatic starts, track a shard sequence and a NumPy run
/// with overlays, export, resume, 2 ranks = 1 rank with twice the batch, and clear errors.
@Suite(.serialized) struct TrackerCommandsTests {
    static func workspace() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fluoro-tracker-cli-\(UUID().uuidString)")
        let synth = try FluoroBinary.run(["synth", "--out", dir.appendingPathComponent("shards").path, "--sequences", "2",
                                          "--frames", "8", "--size", "64", "--seed", "31", "--kind", "fluoro", "--threads", "1"])
        #expect(synth.status == 0, "synth: \(synth.stderr)")
        return dir
    }

    static func finetune(_ dir: URL, run: String, steps: Int = 3, batch: Int = 2, extra: [String] = []) -> [String] {
        ["finetune", "--shards", dir.appendingPathComponent("shards").path, "--run", dir.appendingPathComponent(run).path,
         "--task", "markers", "--from-scratch", "--preset", "tiny", "--steps", "\(steps)", "--batch", "\(batch)",
         "--threads", "1", "--seed", "4"] + extra
    }

    @Test func finetuneEvaluateTrackExport() throws {
        let dir = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let shards = dir.appendingPathComponent("shards").path, run = dir.appendingPathComponent("run")
        let ft = try FluoroBinary.run(Self.finetune(dir, run: "run", extra: ["--detector"]))
        #expect(ft.status == 0, "finetune: \(ft.stderr)")
        #expect(ft.stdout.contains("tracker written to"))
        let model = run.appendingPathComponent("tracker.safetensors").path
        #expect(FileManager.default.fileExists(atPath: model))
        #expect(try FluoroTensor.SafetensorsFile(contentsOf: URL(fileURLWithPath: model)).metadata["format"] == "fluoro-hift/1")

        let eval = try FluoroBinary.run(["evaluate", "--model", model, "--shards", shards, "--task", "markers", "--baseline", "still",
                                         "--json", "--threads", "1"])
        #expect(eval.status == 0, "evaluate: \(eval.stderr)")
        let methods = try #require(try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [[String: Any]])
        #expect(methods.map { $0["method"] as? String } == ["hift", "still"])
        let auto = try FluoroBinary.run(["evaluate", "--model", run.path, "--shards", shards, "--task", "markers", "--auto-init", "--json"])
        #expect(auto.status == 0 && auto.stdout.contains("\"auto\""), "auto: \(auto.stderr)")
        // The read-out's motion prior and bf16 products are evaluation options too; a bad prior is refused.
        let prior = try FluoroBinary.run(["evaluate", "--model", model, "--shards", shards, "--task", "markers", "--motion-prior", "4",
                                          "--precision", "bf16", "--allow-bf16-emulation", "--json", "--threads", "1"])
        #expect(prior.status == 0 && prior.stdout.contains("\"hift\""), "evaluate --motion-prior --precision bf16: \(prior.stderr)")
        let badPrior = try FluoroBinary.run(["evaluate", "--model", model, "--shards", shards, "--task", "markers", "--motion-prior", "0"])
        #expect(badPrior.status != 0 && badPrior.stderr.contains("--motion-prior must be > 0"))
        let wrongTask = try FluoroBinary.run(["evaluate", "--model", model, "--shards", shards, "--task", "tip"])
        #expect(wrongTask.status != 0 && wrongTask.stderr.contains("markers tracker"))

        let csv = dir.appendingPathComponent("tracks.csv"), overlay = dir.appendingPathComponent("overlay")
        let heatmaps = dir.appendingPathComponent("heatmaps")
        let track = try FluoroBinary.run(["track", "--model", model, "--input", shards, "--sequence", "1", "--init", "annotated",
                                          "--out", csv.path, "--overlay", overlay.path, "--heatmaps", heatmaps.path, "--threads", "1"])
        #expect(track.status == 0, "track: \(track.stderr)")
        let rows = try String(contentsOf: csv, encoding: .utf8).split(separator: "\n")
        #expect(rows.first == "frame,landmark,x,y,lost" && rows.count == 1 + 8 * 2)
        #expect(try FileManager.default.contentsOfDirectory(atPath: overlay.path).filter { $0.hasSuffix(".png") }.count == 8)
        #expect(try FileManager.default.contentsOfDirectory(atPath: heatmaps.path).sorted().first == "heatmap-0001.png")
        #expect(try FileManager.default.contentsOfDirectory(atPath: heatmaps.path).count == 7, "one per tracked frame after the first")
        let autoTrack = try FluoroBinary.run(["track", "--model", model, "--input", shards, "--auto", "--out", csv.path])
        #expect(autoTrack.status == 0, "track --auto: \(autoTrack.stderr)")

        let exported = dir.appendingPathComponent("exported.safetensors").path
        let export = try FluoroBinary.run(["export", "--run", run.path, "--out", exported])
        #expect(export.status == 0 && export.stdout.contains("markers tracker with detector"), "export: \(export.stderr)")

        let outside = try FluoroBinary.run(["track", "--model", model, "--input", shards, "--init", "500,3;4,4", "--out", csv.path])
        #expect(outside.status != 0 && outside.stderr.contains("outside the 64x64 frame"), "\(outside.stderr)")
        let count = try FluoroBinary.run(["track", "--model", model, "--input", shards, "--init", "5,5", "--out", csv.path])
        #expect(count.status != 0 && count.stderr.contains("follows 2"), "\(count.stderr)")
        let encoderAsModel = try FluoroBinary.run(["track", "--model", shards + "/manifest.json", "--input", shards, "--init", "5,5;6,6",
                                                   "--out", csv.path])
        #expect(encoderAsModel.status != 0 && encoderAsModel.stderr.contains("is not a Fluoro tracker"))
    }

    @Test func resumeContinuesAndTwoRanksEqualOneWithTwiceTheBatch() throws {
        let dir = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let stopped = try FluoroBinary.run(Self.finetune(dir, run: "a", steps: 4, extra: ["--stop-at", "2"]))
        #expect(stopped.status == 0 && stopped.stdout.contains("continue with --resume latest"), "\(stopped.stderr)")
        let resumed = try FluoroBinary.run(Self.finetune(dir, run: "a", steps: 4, extra: ["--resume", "latest"]))
        #expect(resumed.status == 0 && resumed.stdout.contains("steps 2→4"), "\(resumed.stdout) \(resumed.stderr)")
        let again = try FluoroBinary.run(Self.finetune(dir, run: "a", steps: 4))
        #expect(again.status != 0, "a fresh start into a run with checkpoints must be refused")

        let two = try PretrainCommandTests.mpirun(2, Self.finetune(dir, run: "two", steps: 3, batch: 1))
        #expect(two.status == 0, "2 ranks: \(two.stderr)")
        let one = try FluoroBinary.run(Self.finetune(dir, run: "one", steps: 3, batch: 2))
        #expect(one.status == 0, "1 rank: \(one.stderr)")
        let a = try FluoroTensor.SafetensorsFile(contentsOf: dir.appendingPathComponent("two/tracker.safetensors"))
        let b = try FluoroTensor.SafetensorsFile(contentsOf: dir.appendingPathComponent("one/tracker.safetensors"))
        var worst: Float = 0
        for name in a.entries.keys { for (x, y) in zip(try a.floats(name), try b.floats(name)) { worst = max(worst, abs(x - y)) } }
        #expect(worst < 1e-5, "2 ranks x batch 1 vs 1 rank x batch 2: parameters differ by \(worst)")
    }

    @Test func ablationQuickRunsEndToEnd() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("fluoro-ablation-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized
        var env = FluoroBinary.cleanEnvironment
        env["FLUORO"] = FluoroBinary.url.path
        let result = try FluoroBinary.run([root.appendingPathComponent("launch/ablation.sh").path, "--quick", "--out", out.path,
                                           "--threads", "1"], executable: "bash", environment: env, timeout: 600)
        #expect(result.status == 0, "ablation --quick: \(result.stdout.suffix(2000)) \(result.stderr.suffix(2000))")
        let report = try String(contentsOf: out.appendingPathComponent("results.md"), encoding: .utf8)
        #expect(report.contains("## Table 3") && report.contains("## Table 1"))
        #expect(report.contains("| none | ✓ | ✓ | 2 |") && report.contains("| FIMAE-SC | — | — | 2 |"), "\(report)")
        // Every stage is marked done: a second run resumes and redoes nothing.
        let again = try FluoroBinary.run([root.appendingPathComponent("launch/ablation.sh").path, "--quick", "--out", out.path,
                                          "--threads", "1"], executable: "bash", environment: env, timeout: 120)
        #expect(again.status == 0 && !again.stdout.contains("finetune tracker:"), "\(again.stdout.suffix(1000))")
    }
}
