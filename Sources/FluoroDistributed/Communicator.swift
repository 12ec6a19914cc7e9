/// A group of processes that train together. The model never sees this; the trainer hands
/// gradients and metrics to it. `MPICommunicator` is the real one; `LocalCommunicator` is a
/// group of one.
public protocol Communicator: AnyObject {
    /// This process's index in the group, 0 = the coordinator.
    var rank: Int { get }
    /// Processes in the group.
    var size: Int { get }
    /// Replaces `buffer` on every rank with the element-wise sum over ranks.
    func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws
    /// Replaces `buffer` on every rank with the element-wise sum over ranks (doubles, for metrics).
    func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) throws
    /// Starts replacing `buffer` with the element-wise sum over ranks and returns at once; the
    /// buffer must stay alive and untouched until the returned reduction's `wait()` returns.
    /// (Default: a blocking `allReduceSum`, already complete.)
    func startAllReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws -> PendingReduction
    /// Waits until every rank reaches this point.
    func barrier() throws
    /// Ends the whole job at once, every rank, with `code`.
    func abort(code: Int32) -> Never
}

extension Communicator {
    public func startAllReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws -> PendingReduction {
        try allReduceSum(buffer)
        return CompletedReduction()
    }

    /// True on rank 0, which alone prints, logs and checkpoints.
    public var isCoordinator: Bool { rank == 0 }

    /// Sums an array over ranks.
    public func allReduceSum(_ values: inout [Float]) throws {
        try values.withUnsafeMutableBufferPointer { try allReduceSum($0) }
    }

    /// Sums an array of doubles over ranks.
    public func allReduceSum(_ values: inout [Double]) throws {
        try values.withUnsafeMutableBufferPointer { try allReduceSum($0) }
    }
}

/// The group this process belongs to: MPI_COMM_WORLD when an MPI launcher started it, else a
/// group of one (so the same command runs with or without mpirun).
public func processCommunicator() -> Communicator {
    MPICommunicator.launchedByMPI ? MPICommunicator.world : LocalCommunicator()
}

/// `processCommunicator()`, throwing when MPI did not start cleanly (an MPI_Init_thread error,
/// too low a thread level, or a failed rank/size query) instead of computing with a broken group.
public func checkedProcessCommunicator() throws -> Communicator {
    MPICommunicator.launchedByMPI ? try MPICommunicator.checkedWorld() : LocalCommunicator()
}

/// A group of one process: every collective is the identity.
public final class LocalCommunicator: Communicator {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws {}
    public func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) throws {}
    public func barrier() throws {}
    public func abort(code: Int32) -> Never { exit(code) }
}

#if canImport(Glibc)
import Glibc
#endif
