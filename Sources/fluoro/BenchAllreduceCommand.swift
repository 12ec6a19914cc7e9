import ArgumentParser
import FluoroDistributed
import FluoroSupport
import Foundation

/// `fluoro bench allreduce`: all-reduce time and bandwidth per message size, as nccl-tests report
/// them (algbw = bytes / time; busbw = algbw * 2(n-1)/n). Run under mpirun; rank 0 prints.
struct BenchAllreduceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "allreduce",
        abstract: "Time float all-reduces over the ranks of this job: median time, algorithm and bus bandwidth.",
        discussion: "Example: mpirun --allow-run-as-root -np 2 fluoro bench allreduce --sizes 4K,1M,64M --check")

    @Option(help: "Message sizes in bytes, comma-separated, with K/M/G suffixes (powers of 1024).")
    var sizes = "4K,64K,1M,16M,64M"

    @Option(help: "Timed repetitions per size (after 2 warm-ups); the median is reported.")
    var repeats = 20

    @Option(help: "How to reduce: 'blocking' (one MPI_Allreduce of the whole buffer, a sum), 'buckets' (GradientReducer.averageAll: one blocking all-reduce per bucket, then the mean) or 'overlapped' (GradientReducer: buckets marked ready in reverse as backward would, non-blocking MPI_Iallreduce, then finish() and the mean).")
    var path: Path = .blocking

    @Option(help: "Bucket size for --path buckets and overlapped (bytes, K/M/G suffixes).")
    var bucket = ByteSize(bytes: GradientReducer.defaultBucketBytes)

    @Flag(help: "Fill each rank's buffer with known values and verify the reduced result on every rank.")
    var check = false

    @Flag(help: "Also average rank-dependent, inexact values by blocking and by overlapped buckets and require the same bits and the mean over ranks on every rank.")
    var comparePaths = false

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    enum Path: String, ExpressibleByArgument, CaseIterable { case blocking, buckets, overlapped }

    func validate() throws {
        if repeats < 1 { throw ValidationError("--repeats must be at least 1, got \(repeats)") }
        if case let .failure(error) = ByteSize.list(sizes) { throw error }
    }

    struct Row { var bytes: Int; var seconds: Double; var algbw: Double; var busbw: Double }

    func run() throws {
        let sizeList = try ByteSize.list(sizes).get()
        let world: Communicator = MPICommunicator.world
        let n = world.size
        var rows: [Row] = []
        var failures: [String] = []
        for size in sizeList {
            let count = max(1, size.bytes / MemoryLayout<Float>.stride)
            var buffer = [Float](repeating: 0, count: count)
            var times: [Double] = []
            try buffer.withUnsafeMutableBufferPointer { g in
                let reducer = GradientReducer(communicator: world, gradients: g, bucketBytes: bucket.bytes)
                for iteration in 0..<(repeats + 2) {
                    if check { Self.fill(g, rank: world.rank) }
                    try world.barrier()
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    try reduce(g, reducer: reducer, communicator: world)
                    let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
                    if iteration >= 2 { times.append(seconds) }
                    if check, let problem = Self.verify(g, ranks: n, averaged: path != .blocking) {
                        failures.append("rank \(world.rank), size \(size), repeat \(iteration): \(problem)")
                    }
                }
            }
            times.sort()
            let median = times[times.count / 2]
            let bytes = Double(count * MemoryLayout<Float>.stride)
            let algbw = bytes / median / 1e9
            rows.append(Row(bytes: count * MemoryLayout<Float>.stride, seconds: median,
                            algbw: algbw, busbw: algbw * 2 * Double(n - 1) / Double(n)))
        }
        var pathsIdentical: Bool?
        if comparePaths {
            let count = max(1, (sizeList.map(\.bytes).max() ?? 4) / MemoryLayout<Float>.stride)
            let outcome = try AllreducePathComparison.run(count: count, bucketBytes: bucket.bytes, layerFloats: max(1, bucket.bytes / 6),
                                                          communicator: world)
            pathsIdentical = outcome.identical
            if let problem = outcome.problem { failures.append("compare paths: \(problem)") }
        }
        // Every rank's verdict reaches rank 0.
        var failed: [Double] = [failures.isEmpty ? 0 : 1]
        try world.allReduceSum(&failed)
        for failure in failures.prefix(3) { Log.info("check failed: \(failure)") }
        if world.isCoordinator { try report(rows, ranks: n, checkFailures: Int(failed[0]), pathsIdentical: pathsIdentical) }
        if failed[0] > 0 { throw ExitCode(1) }
    }

    private func reduce(_ g: UnsafeMutableBufferPointer<Float>, reducer: GradientReducer, communicator: Communicator) throws {
        switch path {
        case .blocking:
            try communicator.allReduceSum(g)
        case .buckets:
            try reducer.averageAll()
        case .overlapped:
            // As backward would: 1 MiB "layers" from the end of the buffer to the start.
            let layer = 1 << 18
            var upper = g.count
            while upper > 0 {
                let lower = max(0, upper - layer)
                try reducer.bucketReady(lower..<upper)
                upper = lower
            }
            try reducer.finish()
        }
    }

    /// Rank r holds (r + 1) * (i % 17): the sum over n ranks is (i % 17) * n(n+1)/2, exact in float.
    static func fill(_ g: UnsafeMutableBufferPointer<Float>, rank: Int) {
        for i in g.indices { g[i] = Float(rank + 1) * Float(i % 17) }
    }

    /// The first wrong value, described, or nil when all are right (the average is the sum / n).
    static func verify(_ g: UnsafeMutableBufferPointer<Float>, ranks n: Int, averaged: Bool) -> String? {
        let total = Float(n * (n + 1) / 2)
        let factor = averaged && n > 1 ? total / Float(n) : total
        for i in g.indices {
            let want = Float(i % 17) * factor
            if abs(g[i] - want) > 1e-6 * max(1, abs(want)) { return "value \(i) is \(g[i]), expected \(want)" }
        }
        return nil
    }

    private func report(_ rows: [Row], ranks n: Int, checkFailures: Int, pathsIdentical: Bool?) throws {
        let verdict = check || comparePaths ? (checkFailures == 0 ? "ok" : "FAILED on \(checkFailures) rank(s)") : "not checked"
        if json {
            var object: [String: Any] = [
                "ranks": n, "path": path.rawValue, "repeats": repeats, "check": verdict,
                "results": rows.map { r in
                    ["bytes": r.bytes, "median_us": r.seconds * 1e6, "algbw_gbps": r.algbw, "busbw_gbps": r.busbw] as [String: Any]
                },
            ]
            if let pathsIdentical { object["paths_bit_identical"] = pathsIdentical }
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        print("all-reduce (float sum, \(path.rawValue)) over \(n) rank(s), median of \(repeats); busbw = algbw * 2(n-1)/n")
        print("      size      time (us)   algbw (GB/s)   busbw (GB/s)")
        for r in rows {
            let size = ByteSize(bytes: r.bytes).description
            print(String(repeating: " ", count: max(0, 10 - size.count)) + size
                  + String(format: " %14.1f %14.3f %14.3f", r.seconds * 1e6, r.algbw, r.busbw))
        }
        print("check: \(verdict)")
        if let pathsIdentical { print("overlapped and blocking buckets: \(pathsIdentical ? "the same bits" : "equal within \(AllreducePathComparison.pathTolerance) (other summation order)")") }
    }
}
