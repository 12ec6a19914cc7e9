/// Errors from the gradient reducer, naming the range or bucket concerned.
public enum GradientReducerError: Error, CustomStringConvertible {
    case rangeOutOfBounds(range: Range<Int>, count: Int)
    case rangeMarkedTwice(range: Range<Int>, bucket: Int)

    public var description: String {
        switch self {
        case let .rangeOutOfBounds(range, count):
            return "gradient range \(range) lies outside the gradient buffer of \(count) values"
        case let .rangeMarkedTwice(range, bucket):
            return "gradient range \(range) was marked ready twice in one step (bucket \(bucket)); mark each parameter's gradient once per step, then call finish()"
        }
    }
}

/// Averages a flat gradient buffer over the ranks of a communicator (METHOD §6: N ranks of batch b
/// update like one rank of batch N*b), in buckets of `bucketBytes`.
///
/// Overlapped use, once per step: backward calls `bucketReady(range)` for each parameter's gradient
/// as soon as it is final (reverse layer order); a bucket's non-blocking all-reduce starts when all
/// of it is final. `finish()` starts the rest, waits, and scales by 1/size. Or call `averageAll()`
/// after backward (blocking). With one rank (`LocalCommunicator`, or an MPI singleton) both are no-ops.
///
/// All calls must come from the thread that initialised MPI (MPI_THREAD_FUNNELED).
public final class GradientReducer {
    /// The communicator the gradients are averaged over.
    public let communicator: Communicator
    /// Consecutive ranges of the gradient buffer, each reduced by one all-reduce, covering it.
    public let buckets: [Range<Int>]

    private let gradients: UnsafeMutableBufferPointer<Float>  // g: [count]
    private var marked: [[Range<Int>]]                         // per bucket: ranges marked this step
    private var markedCount: [Int]                             // per bucket: values marked this step
    private var pending: [PendingReduction?]                   // per bucket: started reduction

    /// The default bucket size: 1 MiB (256 Ki floats), the fastest of 1, 4 and 16 MiB for the
    /// bench model's 9 MiB of gradients on 2 ranks (docs/BENCHMARKS.md).
    public static let defaultBucketBytes = 1 << 20

    /// A reducer for `gradients`, which must outlive it and stay at the same address.
    public init(communicator: Communicator, gradients: UnsafeMutableBufferPointer<Float>,
                bucketBytes: Int = GradientReducer.defaultBucketBytes) {
        self.communicator = communicator
        self.gradients = gradients
        let perBucket = max(1, bucketBytes / MemoryLayout<Float>.stride)
        buckets = stride(from: 0, to: gradients.count, by: perBucket).map { $0..<min(gradients.count, $0 + perBucket) }
        marked = Array(repeating: [], count: buckets.count)
        markedCount = Array(repeating: 0, count: buckets.count)
        pending = Array(repeating: nil, count: buckets.count)
    }

    /// True when there is nothing to reduce (a group of one).
    public var isNoOp: Bool { communicator.size <= 1 }

    /// Buckets whose all-reduce has been started this step.
    public var startedBuckets: Int { pending.lazy.filter { $0 != nil }.count }

    /// Marks `range` of the gradients final for this step; starts every bucket that is now complete
    /// and lets started ones progress.
    public func bucketReady(_ range: Range<Int>) throws {
        guard !isNoOp else { return }
        guard range.lowerBound >= 0, range.upperBound <= gradients.count else {
            throw GradientReducerError.rangeOutOfBounds(range: range, count: gradients.count)
        }
        guard !range.isEmpty, let perBucket = buckets.first?.count else { return }
        for b in (range.lowerBound / perBucket)...((range.upperBound - 1) / perBucket) {
            let part = range.clamped(to: buckets[b])
            if marked[b].contains(where: { $0.overlaps(part) }) || pending[b] != nil {
                throw GradientReducerError.rangeMarkedTwice(range: range, bucket: b)
            }
            marked[b].append(part)
            markedCount[b] += part.count
            if markedCount[b] == buckets[b].count { try start(b) }
        }
        try progress()
    }

    /// Lets started all-reduces progress (MPI moves non-blocking collectives forward mostly
    /// inside MPI calls); backward may call it between layers.
    public func progress() throws {
        for case let reduction? in pending { _ = try reduction.test() }
    }

    /// Starts the buckets not started yet, waits for all, and divides the gradients by the rank
    /// count; then resets for the next step.
    public func finish() throws {
        guard !isNoOp else { return }
        for b in buckets.indices where pending[b] == nil { try start(b) }
        let scale = 1 / Float(communicator.size)
        for b in buckets.indices {
            try pending[b]?.wait()
            scaleBucket(b, by: scale)
        }
        reset()
    }

    /// Blocking path: sums the whole buffer over ranks, bucket by bucket, and divides by the rank count.
    public func averageAll() throws {
        guard !isNoOp else { return }
        let scale = 1 / Float(communicator.size)
        for b in buckets.indices {
            try communicator.allReduceSum(slice(b))
            scaleBucket(b, by: scale)
        }
        reset()
    }

    private func slice(_ b: Int) -> UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(rebasing: gradients[buckets[b]])
    }

    private func start(_ b: Int) throws {
        pending[b] = try communicator.startAllReduceSum(slice(b))
    }

    private func scaleBucket(_ b: Int, by scale: Float) {
        guard let base = gradients.baseAddress else { return }
        for i in buckets[b] { base[i] *= scale }
    }

    private func reset() {
        for b in buckets.indices { marked[b].removeAll(keepingCapacity: true); markedCount[b] = 0; pending[b] = nil }
    }
}
