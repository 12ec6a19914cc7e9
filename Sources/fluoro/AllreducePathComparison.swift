import FluoroDistributed
import FluoroSupport
import FluoroTraining

/// `fluoro bench allreduce --compare-paths`: the same rank-dependent, inexact values averaged by
/// blocking buckets (`GradientReducer.averageAll`, MPI_Allreduce) and by overlapped buckets
/// (`bucketReady` in reverse, MPI_Iallreduce, `finish`).
///
/// What must hold: within each path every rank gets the same bits (the replicas stay identical);
/// both paths equal the mean over ranks computed here in Double (so paths that did nothing cannot
/// pass); with 2 ranks the paths agree bit for bit (a sum of two is one rounding whatever the
/// order). With 3 or more ranks Open MPI's blocking and non-blocking collectives add in different
/// orders, so the paths may differ by a few ulps (measured: 1 ulp at 3 ranks).
enum AllreducePathComparison {
    /// What a comparison found.
    struct Outcome {
        /// The first problem, naming the rank and value (nil: all requirements hold).
        var problem: String?
        /// Whether the two paths gave the same bits on this rank.
        var identical: Bool
    }

    /// Largest relative difference allowed between the paths with 3 or more ranks (about 8 ulps).
    static let pathTolerance = 1e-6

    /// Rank r's value at i: not an integer, different on every rank, so float sums round.
    static func value(rank: Int, index i: Int) -> Float {
        Float(rank + 1) * 0.1 + Float((i * 7919 + rank * 104_729) % 1000) / 997
    }

    /// The mean over `ranks` ranks of `value(rank:index:)`, in Double.
    static func expectedMean(index i: Int, ranks: Int) -> Double {
        (0..<ranks).reduce(0.0) { $0 + Double(value(rank: $1, index: i)) } / Double(ranks)
    }

    /// Runs both paths on `count` floats and checks them. Collective: every rank must call it.
    static func run(count: Int, bucketBytes: Int, layerFloats: Int, communicator: Communicator) throws -> Outcome {
        let input = (0..<count).map { value(rank: communicator.rank, index: $0) }
        let blocking = try averageBlocking(input, bucketBytes: bucketBytes, communicator: communicator)
        let overlapped = try averageOverlapped(input, bucketBytes: bucketBytes, layerFloats: layerFloats, communicator: communicator)
        let hashes = [blocking, overlapped].map { v in v.withUnsafeBytes { XXHash64.hash($0) } }
        let identical = hashes[0] == hashes[1]
        if let differ = try ReplicaAgreement.check(hashes, across: communicator) {
            return Outcome(problem: "ranks \(differ.ranks) got other bits than rank 0 from the same reduction", identical: identical)
        }
        return Outcome(problem: firstProblem(blocking, overlapped, communicator: communicator), identical: identical)
    }

    static func averageBlocking(_ input: [Float], bucketBytes: Int, communicator: Communicator) throws -> [Float] {
        var g = input
        try g.withUnsafeMutableBufferPointer { try GradientReducer(communicator: communicator, gradients: $0, bucketBytes: bucketBytes).averageAll() }
        return g
    }

    /// As backward would: "layers" of `layerFloats` marked ready from the end of the buffer to the start.
    static func averageOverlapped(_ input: [Float], bucketBytes: Int, layerFloats: Int, communicator: Communicator) throws -> [Float] {
        var g = input
        try g.withUnsafeMutableBufferPointer { buffer in
            let reducer = GradientReducer(communicator: communicator, gradients: buffer, bucketBytes: bucketBytes)
            var upper = buffer.count
            while upper > 0 {
                let lower = max(0, upper - layerFloats)
                try reducer.bucketReady(lower..<upper)
                upper = lower
            }
            try reducer.finish()
        }
        return g
    }

    /// The first value that is not the mean over ranks, or where the paths differ more than allowed.
    static func firstProblem(_ blocking: [Float], _ overlapped: [Float], communicator: Communicator) -> String? {
        let n = communicator.size, rank = communicator.rank
        for i in blocking.indices {
            let want = expectedMean(index: i, ranks: n)
            if abs(Double(blocking[i]) - want) > 1e-5 * max(1, abs(want)) {
                return "rank \(rank) of \(n), value \(i): \(blocking[i]) is not the mean over ranks \(want)"
            }
            let gap = abs(Double(overlapped[i]) - Double(blocking[i]))
            if n <= 2 ? gap != 0 : gap > pathTolerance * abs(Double(blocking[i])) {
                return "rank \(rank) of \(n), value \(i): overlapped \(overlapped[i]) differs from blocking \(blocking[i])"
            }
        }
        return nil
    }
}
