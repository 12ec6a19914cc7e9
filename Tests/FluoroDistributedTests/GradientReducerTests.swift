import Testing
@testable import FluoroDistributed

/// A simulated group: this process is rank 0 and `others` hold the other ranks' gradient buffers.
/// A started reduction records its bucket and sums only when waited on, as a real non-blocking
/// all-reduce may.
final class SimulatedGroup: Communicator {
    let base: UnsafeMutablePointer<Float>
    var others: [[Float]]
    var started: [Range<Int>] = []
    var blockingCalls = 0

    init(gradients: UnsafeMutableBufferPointer<Float>, others: [[Float]]) {
        base = gradients.baseAddress!
        self.others = others
    }

    var rank: Int { 0 }
    var size: Int { others.count + 1 }

    func sum(_ buffer: UnsafeMutableBufferPointer<Float>) {
        let offset = buffer.baseAddress! - base
        for i in buffer.indices { for other in others { buffer[i] += other[offset + i] } }
    }

    final class Deferred: PendingReduction {
        var action: (() -> Void)?
        init(_ action: @escaping () -> Void) { self.action = action }
        func test() throws -> Bool { action == nil }
        func wait() throws { action?(); action = nil }
    }

    func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws { blockingCalls += 1; sum(buffer) }
    func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) throws {}
    func startAllReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws -> PendingReduction {
        let offset = buffer.baseAddress! - base
        started.append(offset..<(offset + buffer.count))
        return Deferred { self.sum(buffer) }
    }
    func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) throws {}
    func barrier() throws {}
    func abort(code: Int32) -> Never { fatalError("abort \(code)") }
}

@Suite struct GradientReducerTests {
    static func gradients(_ n: Int, rank: Int) -> [Float] { (0..<n).map { Float(($0 * 7 + rank * 3) % 11) - 5 } }

    /// Parameter sizes of a toy model, in arena order.
    static let layout = [30, 7, 64, 1, 50, 18]
    static var ranges: [Range<Int>] {
        var out: [Range<Int>] = [], start = 0
        for n in layout { out.append(start..<(start + n)); start += n }
        return out
    }

    @Test func blockingAverageIsTheMeanOverRanks() throws {
        let n = 170
        var g = Self.gradients(n, rank: 0)
        let others = [Self.gradients(n, rank: 1), Self.gradients(n, rank: 2)]
        let mean = (0..<n).map { i in (g[i] + others[0][i] + others[1][i]) / 3 }
        try g.withUnsafeMutableBufferPointer { buffer in
            let group = SimulatedGroup(gradients: buffer, others: others)
            let reducer = GradientReducer(communicator: group, gradients: buffer, bucketBytes: 64 * 4)
            #expect(reducer.buckets == [0..<64, 64..<128, 128..<170])
            try reducer.averageAll()
            #expect(group.blockingCalls == 3)
        }
        for i in 0..<n { #expect(abs(g[i] - mean[i]) <= 1e-6, "index \(i)") }
    }

    /// Backward marks parameters in reverse order: each bucket starts exactly when its last part
    /// is marked, the last bucket first; finish() waits and averages. Two steps in a row.
    @Test func bucketsStartWhenCompleteInReverseOrder() throws {
        let n = Self.layout.reduce(0, +)  // 170
        var g = Self.gradients(n, rank: 0)
        let others = [Self.gradients(n, rank: 1)]
        try g.withUnsafeMutableBufferPointer { buffer in
            let group = SimulatedGroup(gradients: buffer, others: others)
            let reducer = GradientReducer(communicator: group, gradients: buffer, bucketBytes: 60 * 4)
            #expect(reducer.buckets == [0..<60, 60..<120, 120..<170])
            for step in 0..<2 {
                for i in 0..<n { buffer[i] = Self.gradients(n, rank: 0)[i] * Float(step + 1) }
                group.others = [others[0].map { $0 * Float(step + 1) }]
                group.started = []
                var startedAfter: [Int] = []
                for r in Self.ranges.reversed() {
                    try reducer.bucketReady(r)
                    startedAfter.append(reducer.startedBuckets)
                }
                // 152..<170 (bucket 2 partial), 102..<152 (completes bucket 2 = 120..<170),
                // 101..<102, 37..<101 (completes bucket 1 = 60..<120), 30..<37, 0..<30 (bucket 0).
                #expect(startedAfter == [0, 1, 1, 2, 2, 3])
                #expect(group.started == [120..<170, 60..<120, 0..<60])
                // Nothing is summed before finish() waits.
                #expect(buffer[0] == Self.gradients(n, rank: 0)[0] * Float(step + 1))
                try reducer.finish()
                #expect(reducer.startedBuckets == 0)
                for i in 0..<n {
                    let want = (Self.gradients(n, rank: 0)[i] + others[0][i]) * Float(step + 1) / 2
                    #expect(buffer[i] == want, "step \(step) index \(i)")
                }
            }
        }
    }

    /// finish() also reduces buckets nobody marked (e.g. parameters without gradient this step).
    @Test func finishStartsUnmarkedBuckets() throws {
        var g: [Float] = [2, 4, 6, 8, 10]
        try g.withUnsafeMutableBufferPointer { buffer in
            let group = SimulatedGroup(gradients: buffer, others: [[0, 0, 0, 0, 0], [1, 1, 1, 1, 1], [1, 1, 1, 1, 1]])
            let reducer = GradientReducer(communicator: group, gradients: buffer, bucketBytes: 8)
            try reducer.bucketReady(2..<4)
            #expect(group.started == [2..<4])
            try reducer.finish()
            #expect(group.started == [2..<4, 0..<2, 4..<5])
        }
        #expect(g == [1, 1.5, 2, 2.5, 3])
    }

    @Test func markingTwiceOrOutsideIsAnError() throws {
        var g = [Float](repeating: 1, count: 10)
        try g.withUnsafeMutableBufferPointer { buffer in
            let group = SimulatedGroup(gradients: buffer, others: [[Float](repeating: 1, count: 10)])
            let reducer = GradientReducer(communicator: group, gradients: buffer, bucketBytes: 16)
            try reducer.bucketReady(0..<3)
            #expect(throws: GradientReducerError.self) { try reducer.bucketReady(2..<5) }
            #expect(throws: GradientReducerError.self) { try reducer.bucketReady(8..<11) }
            #expect(throws: GradientReducerError.self) { try reducer.bucketReady(-1..<1) }
        }
    }

    @Test func localCommunicatorIsANoOp() throws {
        var g: [Float] = [1, 2, 3]
        try g.withUnsafeMutableBufferPointer { buffer in
            let reducer = GradientReducer(communicator: LocalCommunicator(), gradients: buffer, bucketBytes: 4)
            #expect(reducer.isNoOp)
            try reducer.bucketReady(0..<3)
            try reducer.bucketReady(0..<3)  // no bookkeeping, so no error either
            #expect(reducer.startedBuckets == 0)
            try reducer.finish()
            try reducer.averageAll()
        }
        #expect(g == [1, 2, 3])
    }

    /// MPI singleton: a non-blocking all-reduce on one rank completes and leaves the values.
    @Test func mpiSingletonNonBlockingAllReduce() throws {
        let world = MPICommunicator.world
        #expect(world.size == 1)
        var values: [Float] = (0..<1000).map { Float($0) * 0.5 }
        let original = values
        try values.withUnsafeMutableBufferPointer { buffer in
            let pending = try world.startAllReduceSum(buffer)
            while try !pending.test() {}
            try pending.wait()
            let reducer = GradientReducer(communicator: world, gradients: buffer)
            try reducer.bucketReady(0..<1000)
            try reducer.finish()
        }
        #expect(values == original)
    }
}
