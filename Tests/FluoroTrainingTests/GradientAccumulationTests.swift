import FluoroDistributed
import FluoroTensor
import Foundation
import Testing
@testable import FluoroTraining

/// Gradient accumulation (METHOD §7, issue 10 item 11): N micro-batches of b clips make the
/// update of one batch of N·b clips.
@Suite(.serialized) struct GradientAccumulationTests {
    static func accumulating(_ dir: URL, run: String, steps: Int, micro: Int, batch: Int) -> Pretrainer.Options {
        var options = PretrainerTests.options(dir, run: run, steps: steps, batch: batch)
        options.settings.accumulationSteps = micro
        options.panelClips = 0
        return options
    }

    static func parameters(_ run: URL) throws -> [String: [Float]] {
        try PretrainerTests.finalTensors(run).filter { $0.key.hasPrefix(CheckpointTensors.parameterPrefix) }
    }

    /// Accumulating 2 micro-batches of 1 clip gives the steps of batch 2: the same samples and
    /// learning rates (exactly), and losses and parameters equal within float-summation
    /// tolerance — not bit for bit: batch 2 sums a weight gradient's 2·rows terms in one GEMM
    /// reduction, accumulation sums each half and then adds the halves (the 1/2 and the loss's
    /// 1/(B·n) are powers of two apart, so scaling adds no rounding of its own).
    @Test func twoMicroBatchesOfOneEqualABatchOfTwo() throws {
        Parallel.configure(threads: 1)
        let dir = try PretrainerTests.makeDataset()
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try Pretrainer(options: Self.accumulating(dir, run: "batch", steps: 10, micro: 1, batch: 2), communicator: LocalCommunicator()).run()
        _ = try Pretrainer(options: Self.accumulating(dir, run: "micro", steps: 10, micro: 2, batch: 1), communicator: LocalCommunicator()).run()
        let batch = try MetricsLog.read(dir.appendingPathComponent("batch/metrics.jsonl"))
        let micro = try MetricsLog.read(dir.appendingPathComponent("micro/metrics.jsonl"))
        #expect(batch.count == 10 && micro.count == 10)
        func values(_ records: [[String: Any]], _ key: String) -> [Double] { records.compactMap { ($0[key] as? NSNumber)?.doubleValue } }
        #expect(values(micro, "lr") == values(batch, "lr"))
        #expect(values(micro, "samples_seen") == values(batch, "samples_seen"))
        #expect(values(micro, "global_batch") == Array(repeating: 2, count: 10))
        for (a, b) in zip(values(micro, "loss"), values(batch, "loss")) { #expect(abs(a - b) <= 1e-5 * max(1, abs(b)), "loss \(a) vs \(b)") }
        let p = try Self.parameters(dir.appendingPathComponent("micro")), q = try Self.parameters(dir.appendingPathComponent("batch"))
        #expect(p.keys.sorted() == q.keys.sorted() && !p.isEmpty)
        var worst: Float = 0, differing = 0
        for (name, a) in p { for (x, y) in zip(a, q[name]!) { worst = max(worst, abs(x - y)); differing += x == y ? 0 : 1 } }
        print("accumulate 2 x batch 1 vs batch 2 after 10 steps: largest parameter difference \(worst), \(differing) values differ")
        #expect(worst < 1e-6, "largest parameter difference \(worst)")  // measured: 6e-8 after 10 steps
    }

    /// The micro-batch count is saved with the run; a resume keeps it (and ends bit-identical to an
    /// uninterrupted run), and naming another --accumulate on resume is refused, naming the flag.
    @Test func accumulationIsSavedAndCheckedOnResume() throws {
        Parallel.configure(threads: 1)
        let dir = try PretrainerTests.makeDataset()
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try Pretrainer(options: Self.accumulating(dir, run: "whole", steps: 8, micro: 2, batch: 1), communicator: LocalCommunicator()).run()
        var first = Self.accumulating(dir, run: "split", steps: 8, micro: 2, batch: 1)
        first.stopAtStep = 4
        _ = try Pretrainer(options: first, communicator: LocalCommunicator()).run()
        let state = try JSONDecoder().decode(TrainingState.self, from: CheckpointStore(runDirectory: dir.appendingPathComponent("split")).latest().state)
        #expect(state.settings.accumulationSteps == 2 && state.settings.globalBatch == 2 && state.loaderCursor.nextSample == 8)
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("split/config.json"))) as? [String: Any]
        #expect((config?["accumulationSteps"] as? Int) == 2)

        var other = Self.accumulating(dir, run: "split", steps: 8, micro: 4, batch: 1)
        other.resume = .latest
        other.explicit = [.accumulate]
        #expect { try Pretrainer(options: other, communicator: LocalCommunicator()).run() } throws: { "\($0)".contains("--accumulate (4 here, 2 in the checkpoint)") }

        var resumed = Self.accumulating(dir, run: "split", steps: 8, micro: 1, batch: 1)  // not named: the run's 2 stands
        resumed.resume = .latest
        _ = try Pretrainer(options: resumed, communicator: LocalCommunicator()).run()
        #expect(try PretrainerTests.finalTensors(dir.appendingPathComponent("split")) == PretrainerTests.finalTensors(dir.appendingPathComponent("whole")))
    }
}
