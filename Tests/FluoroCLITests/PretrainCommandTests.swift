@testable import FluoroTensor
import Foundation
import Testing

/// `fluoro pretrain` as users run it: under mpirun, killed, resumed, with faults.
@Suite(.serialized) struct PretrainCommandTests {
    /// A scratch directory with a small synthetic dataset in `shards/`.
    static func workspace() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fluoro-pretrain-cli-\(UUID().uuidString)")
        let synth = try FluoroBinary.run(["synth", "--out", dir.appendingPathComponent("shards").path, "--sequences", "6",
                                          "--frames", "12", "--size", "64", "--seed", "5"])
        #expect(synth.status == 0, "synth failed: \(synth.stderr)")
        return dir
    }

    static func mpirun(_ ranks: Int, _ arguments: [String], environment: [String: String] = [:]) throws -> FluoroBinary.Output {
        var env = FluoroBinary.cleanEnvironment
        env.merge(environment) { $1 }
        return try FluoroBinary.run(["--allow-run-as-root", "--oversubscribe", "-np", "\(ranks)", "-x", "FLUORO_FAULT",
                                     FluoroBinary.url.path] + arguments, executable: "mpirun", environment: env)
    }

    static func pretrainArguments(_ dir: URL, run: String, steps: Int, batch: Int, extra: [String] = []) -> [String] {
        ["pretrain", "--shards", dir.appendingPathComponent("shards").path, "--run", dir.appendingPathComponent(run).path,
         "--preset", "tiny", "--steps", "\(steps)", "--batch", "\(batch)", "--lr", "0.05", "--threads", "1",
         "--loader-workers", "1", "--seed", "9"] + extra
    }

    static func parameters(_ dir: URL, run: String) throws -> [String: [Float]] {
        let store = dir.appendingPathComponent(run).appendingPathComponent("checkpoints")
        let last = try #require(try FileManager.default.contentsOfDirectory(atPath: store.path).filter { $0.hasPrefix("step-") }.sorted().last)
        let file = try SafetensorsFile(contentsOf: store.appendingPathComponent(last).appendingPathComponent("tensors.safetensors"))
        var out: [String: [Float]] = [:]
        for name in file.entries.keys where name.hasPrefix("param.") { out[name] = try file.floats(name) }
        return out
    }

    static func metric(_ dir: URL, run: String, _ key: String) throws -> [Double] {
        let text = try String(contentsOf: dir.appendingPathComponent(run).appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        return text.split(separator: "\n").compactMap {
            ((try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any])?[key] as? Double
        }
    }

    /// 2 ranks x batch 1 and 1 rank x batch 2 take the same steps (METHOD §6).
    @Test func twoRanksEqualOneRankWithTheGlobalBatch() throws {
        let dir = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let two = try Self.mpirun(2, Self.pretrainArguments(dir, run: "two", steps: 20, batch: 1))
        #expect(two.status == 0, "2 ranks: \(two.stderr)")
        let one = try FluoroBinary.run(Self.pretrainArguments(dir, run: "one", steps: 20, batch: 2))
        #expect(one.status == 0, "1 rank: \(one.stderr)")
        let lossesTwo = try Self.metric(dir, run: "two", "loss"), lossesOne = try Self.metric(dir, run: "one", "loss")
        #expect(lossesTwo.count == 20 && lossesOne.count == 20)
        for (a, b) in zip(lossesTwo, lossesOne) { #expect(abs(a - b) <= 1e-5 * max(1, abs(b)), "loss \(a) vs \(b)") }
        let p2 = try Self.parameters(dir, run: "two"), p1 = try Self.parameters(dir, run: "one")
        #expect(p2.keys.sorted() == p1.keys.sorted())
        var worst: Float = 0
        for (name, a) in p2 { for (x, y) in zip(a, p1[name]!) { worst = max(worst, abs(x - y)) } }
        #expect(worst < 1e-5, "largest parameter difference \(worst)")
    }

    /// 2 ranks x batch 1 x --accumulate 2, with the overlapped all-reduce (which must wait for the
    /// last micro-batch), take the steps of 1 rank x batch 4.
    @Test func accumulationOnTwoRanksEqualsOneRankWithTheGlobalBatch() throws {
        let dir = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let two = try Self.mpirun(2, Self.pretrainArguments(dir, run: "two", steps: 8, batch: 1,
                                                            extra: ["--accumulate", "2", "--overlap-allreduce", "--bucket-mb", "0.02"]))
        #expect(two.status == 0, "2 ranks: \(two.stderr)")
        #expect(two.stdout.contains("2 rank(s) x batch 1 x 2 accumulated (global 4)"))
        let one = try FluoroBinary.run(Self.pretrainArguments(dir, run: "one", steps: 8, batch: 4))
        #expect(one.status == 0, "1 rank: \(one.stderr)")
        #expect(try Self.metric(dir, run: "two", "lr") == Self.metric(dir, run: "one", "lr"))
        let p2 = try Self.parameters(dir, run: "two"), p1 = try Self.parameters(dir, run: "one")
        var worst: Float = 0
        for (name, a) in p2 { for (x, y) in zip(a, p1[name] ?? []) { worst = max(worst, abs(x - y)) } }
        #expect(p2.keys.sorted() == p1.keys.sorted() && worst < 1e-5, "largest parameter difference \(worst)")
    }

    /// The validation loss is in the progress line and metrics.jsonl, and 2 ranks (each evaluating
    /// half the clips) report the value 1 rank does for the same steps.
    @Test func validationLossOnOneAndTwoRanks() throws {
        let dir = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let held = dir.appendingPathComponent("held-out").path
        let synth = try FluoroBinary.run(["synth", "--out", held, "--sequences", "3", "--frames", "12", "--size", "64", "--seed", "77"])
        #expect(synth.status == 0, "\(synth.stderr)")
        let validation = ["--val-shards", held, "--val-every", "3", "--val-clips", "5", "--log-every", "3"]
        let one = try FluoroBinary.run(Self.pretrainArguments(dir, run: "one", steps: 6, batch: 2, extra: validation))
        #expect(one.status == 0, "1 rank: \(one.stderr)")
        #expect(one.stdout.contains("step 3/6") && one.stdout.contains("  val "), "\(one.stdout)")
        let two = try Self.mpirun(2, Self.pretrainArguments(dir, run: "two", steps: 6, batch: 1, extra: validation))
        #expect(two.status == 0, "2 ranks: \(two.stderr)")
        let a = try Self.metric(dir, run: "one", "val_loss"), b = try Self.metric(dir, run: "two", "val_loss")
        #expect(a.count == 2 && b.count == 2)
        for (x, y) in zip(a, b) { #expect(abs(x - y) <= 1e-5 * max(1, abs(x)), "val_loss \(x) on 1 rank vs \(y) on 2") }
        let bad = try FluoroBinary.run(Self.pretrainArguments(dir, run: "bad", steps: 2, batch: 1, extra: ["--val-every", "2"]))
        #expect(bad.status != 0 && bad.stderr.contains("--val-every needs --val-shards"))
    }

    /// Starting the decoders' all-reduce during the encoder's backward changes nothing in the result.
    @Test func overlappedAllReduceGivesTheSameBits() throws {
        let dir = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let blocking = try Self.mpirun(2, Self.pretrainArguments(dir, run: "blocking", steps: 12, batch: 1))
        #expect(blocking.status == 0, "\(blocking.stderr)")
        let overlapped = try Self.mpirun(2, Self.pretrainArguments(dir, run: "overlapped", steps: 12, batch: 1,
                                                                   extra: ["--overlap-allreduce", "--bucket-mb", "0.02"]))  // ~8 buckets of the tiny model's 164 KB
        #expect(overlapped.status == 0, "\(overlapped.stderr)")
        #expect(try Self.parameters(dir, run: "overlapped") == Self.parameters(dir, run: "blocking"))
    }

    /// A process killed with SIGKILL mid-run and resumed ends bit-identical to an uninterrupted run.
    @Test func killedAndResumedRunIsBitIdentical() throws {
        let dir = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let whole = try FluoroBinary.run(Self.pretrainArguments(dir, run: "whole", steps: 14, batch: 2))
        #expect(whole.status == 0, "\(whole.stderr)")
        var env = FluoroBinary.cleanEnvironment
        env["FLUORO_FAULT"] = "rank=0,step=9,kind=crash"
        let killed = try FluoroBinary.run(Self.pretrainArguments(dir, run: "split", steps: 14, batch: 2, extra: ["--checkpoint-every", "4"]),
                                          environment: env)
        #expect(killed.status != 0)
        let resumed = try FluoroBinary.run(Self.pretrainArguments(dir, run: "split", steps: 14, batch: 2, extra: ["--resume", "latest"]))
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("resuming") && resumed.stderr.contains("from step 8"))
        #expect(try Self.parameters(dir, run: "split") == Self.parameters(dir, run: "whole"))
    }

    /// A run records the library its fp32 products ran on; resumed under the other one it goes on,
    /// with a warning that names the setting that would continue it exactly.
    @Test func resumeUnderAnotherProductLibraryWarns() throws {
        let dir = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        var env = FluoroBinary.cleanEnvironment
        env["FLUORO_SGEMM"] = "openblas"
        let first = try FluoroBinary.run(Self.pretrainArguments(dir, run: "run", steps: 4, batch: 2, extra: ["--checkpoint-every", "2"]),
                                         environment: env)
        #expect(first.status == 0, "\(first.stderr)")
        env["FLUORO_SGEMM"] = "onednn"
        let resumed = try FluoroBinary.run(Self.pretrainArguments(dir, run: "run", steps: 6, batch: 2, extra: ["--resume", "latest"]),
                                           environment: env)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let onednn = DNNLMatmul.engine != nil  // else FLUORO_SGEMM=onednn falls back to OpenBLAS: nothing changed, no warning
        #expect(resumed.stderr.contains("FLUORO_SGEMM=openblas to continue it exactly") == onednn, "\(resumed.stderr)")
        env["FLUORO_SGEMM"] = "openblas"  // back to the recorded one (now onednn): the warning again, the other way
        let again = try FluoroBinary.run(Self.pretrainArguments(dir, run: "run", steps: 8, batch: 2, extra: ["--resume", "latest"]),
                                         environment: env)
        #expect(again.status == 0 && again.stderr.contains("FLUORO_SGEMM=onednn") == onednn, "\(again.stderr)")
    }

    /// A 2-rank run resumed on 1 rank (same global batch) continues the sample stream without gaps.
    @Test func resumeWithAnotherRankCount() throws {
        let dir = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = try Self.mpirun(2, Self.pretrainArguments(dir, run: "run", steps: 10, batch: 1, extra: ["--stop-at", "6"]))
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stderr.contains("stopping at step 6 of 10"))
        let second = try FluoroBinary.run(Self.pretrainArguments(dir, run: "run", steps: 10, batch: 2, extra: ["--resume", "latest"]))
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stderr.contains("from step 6") && second.stderr.contains("on 1 rank(s), global batch 2"))
        let seen = try Self.metric(dir, run: "run", "samples_seen")
        #expect(seen == (1...10).map { Double($0 * 2) })
        // The same steps as one rank with the global batch all along (float tolerance: the
        // 2-rank steps averaged two half-batch gradients).
        let whole = try FluoroBinary.run(Self.pretrainArguments(dir, run: "whole", steps: 10, batch: 2))
        #expect(whole.status == 0, "\(whole.stderr)")
        let resumed = try Self.parameters(dir, run: "run"), reference = try Self.parameters(dir, run: "whole")
        var worst: Float = 0
        for (name, a) in reference { for (x, y) in zip(a, resumed[name] ?? []) { worst = max(worst, abs(x - y)) } }
        #expect(resumed.count == reference.count && worst < 1e-5, "largest parameter difference \(worst)")
    }

    /// A corrupt frame met mid-run ends the job with the rank, shard, sequence and stream named.
    @Test func aBadShardEndsTheJobNamingIt() throws {
        let dir = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let shards = dir.appendingPathComponent("shards")
        let shard = try #require(try FileManager.default.contentsOfDirectory(atPath: shards.path).first { $0.hasSuffix(".flsh") })
        var bytes = try Data(contentsOf: shards.appendingPathComponent(shard))
        bytes[bytes.count * 2 / 5] ^= 0xFF  // inside some sequence's pixel streams
        try bytes.write(to: shards.appendingPathComponent(shard))
        let result = try Self.mpirun(2, Self.pretrainArguments(dir, run: "run", steps: 60, batch: 2))
        #expect(result.status != 0)
        let output = result.stderr + result.stdout
        #expect(output.contains("of 2:") && output.contains(shard) && output.contains("is corrupt") && output.contains("fluoro verify"),
                "\(output)")
    }

    @Test(arguments: ["throw", "crash", "hang"])
    func aFailingRankEndsTheJobNamingIt(kind: String) throws {
        let dir = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let start = Date()
        let result = try Self.mpirun(2, Self.pretrainArguments(dir, run: "run", steps: 50, batch: 1, extra: ["--stall-timeout", kind == "hang" ? "5" : "120"]),
                                     environment: ["FLUORO_FAULT": "rank=1,step=3,kind=\(kind)"])
        let seconds = Date().timeIntervalSince(start)
        #expect(result.status != 0)
        #expect(seconds < 90, "the job took \(seconds) s to end")
        let output = result.stderr + result.stdout
        switch kind {
        case "throw": #expect(output.contains("rank 1") && output.contains("injected fault"), "\(output)")
        case "crash": #expect(output.contains("rank 1") || output.contains("signal 9"), "\(output)")
        default: #expect(output.contains("no progress"), "\(output)")
        }
    }
}
