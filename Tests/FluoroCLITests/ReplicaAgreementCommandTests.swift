import Foundation
import Testing

/// Replicas agree (issue 10, item 3): every rank starts from the same checkpoint, and with
/// `--check-replicas K` every rank's parameters are compared every K steps.
@Suite(.serialized) struct ReplicaAgreementCommandTests {
    static func pretrain(_ dir: URL, run: String, extra: [String]) -> [String] {
        PretrainCommandTests.pretrainArguments(dir, run: run, steps: 6, batch: 1, extra: ["--stall-timeout", "120"] + extra)
    }

    /// Healthy replicas pass the check after every step.
    @Test func identicalReplicasPassTheCheck() throws {
        let dir = try PretrainCommandTests.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try PretrainCommandTests.mpirun(2, Self.pretrain(dir, run: "run", extra: ["--check-replicas", "1"]))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("steps 0->6"), "\(result.stdout)")
    }

    /// Rank 1's parameters drift after step 3's update: the check after step 4 stops the job
    /// naming the step and rank 1.
    @Test func aDivergingRankStopsTheJobNamingIt() throws {
        let dir = try PretrainCommandTests.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try PretrainCommandTests.mpirun(2, Self.pretrain(dir, run: "run", extra: ["--check-replicas", "2"]),
                                                     environment: ["FLUORO_FAULT": "rank=1,step=3,kind=diverge"])
        let output = result.stderr + result.stdout
        #expect(result.status != 0)
        #expect(output.contains("the replicas disagree on the parameters at step 4: rank 1 differs from rank 0"), "\(output)")
        #expect(!output.contains("steps 0->6"), "the job must not finish")
    }

    /// Rank 0 resumes step 4 while rank 1, with a stale view, resumes step 2: the job stops before
    /// training, naming rank 1 and both checkpoints.
    @Test func ranksResumingDifferentCheckpointsStop() throws {
        let dir = try PretrainCommandTests.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = try FluoroBinary.run(PretrainCommandTests.pretrainArguments(
            dir, run: "run", steps: 6, batch: 2, extra: ["--checkpoint-every", "2", "--stop-at", "4"]))
        #expect(first.status == 0, "\(first.stderr)")
        let stale = dir.appendingPathComponent("run/checkpoints/step-00000002").path
        let rank0 = Self.pretrain(dir, run: "run", extra: ["--resume", "latest"])
        let rank1 = Self.pretrain(dir, run: "stale-view", extra: ["--resume", stale])
        let result = try FluoroBinary.run(["--allow-run-as-root", "--oversubscribe", "-np", "1", FluoroBinary.url.path] + rank0
                                          + [":", "-np", "1", FluoroBinary.url.path] + rank1, executable: "mpirun")
        let output = result.stderr + result.stdout
        #expect(result.status != 0)
        #expect(output.contains("the replicas disagree on the checkpoint to start from at step 4: rank 1 differs from rank 0"), "\(output)")
        #expect(output.contains("rank 0: step 4, content") && output.contains("rank 1: step 2, content"), "\(output)")
    }
}
