import COpenMPI
import Foundation

/// Errors from the MPI library, with the operation and rank they concern.
public enum MPIError: Error, CustomStringConvertible {
    case failed(operation: String, rank: Int, code: Int32, message: String)
    /// MPI_Init_thread gave a lower thread level than Fluoro needs.
    case threadSupport(provided: Int32, required: Int32)

    public var description: String {
        switch self {
        case let .failed(operation, rank, code, message):
            return "MPI \(operation) failed on rank \(rank) (code \(code)): \(message)"
        case let .threadSupport(provided, required):
            return "MPI_Init_thread provides thread level \(provided), below MPI_THREAD_FUNNELED (\(required)) that Fluoro needs "
                + "(loader threads run beside MPI calls on the main thread); use an MPI library built with thread support "
                + "(Debian's openmpi-bin is), or check `ompi_info | grep -i thread`"
        }
    }
}

/// MPI_COMM_WORLD as a `Communicator`. MPI is initialised once per process, on first use,
/// and finalised at exit.
public final class MPICommunicator: Communicator {
    /// The process-wide world communicator (initialises MPI on first access).
    public static let world: MPICommunicator = MPICommunicator()

    public let rank: Int
    public let size: Int
    let comm: MPI_Comm

    /// Why MPI could not be set up (initialisation, thread level, rank or size), or nil. Every
    /// collective of a communicator with a problem throws it; `checkedWorld()` throws it at once.
    public let initializationError: MPIError?

    private init() {
        var problem: MPIError?
        var initialized: Int32 = 0
        MPI_Initialized(&initialized)
        if initialized == 0 {
            var provided: Int32 = 0
            let code = MPI_Init_thread(nil, nil, fluoro_mpi_thread_funneled(), &provided)
            problem = Self.initializationProblem(code: code, provided: provided, required: fluoro_mpi_thread_funneled())
            atexit {
                var finalized: Int32 = 0
                MPI_Finalized(&finalized)
                if finalized == 0 { MPI_Finalize() }
            }
        }
        comm = fluoro_mpi_comm_world()
        // Errors come back as codes (so they can carry context) instead of aborting silently.
        var r: Int32 = 0, s: Int32 = 0
        for (code, operation) in [(MPI_Comm_set_errhandler(comm, fluoro_mpi_errors_return()), "Comm_set_errhandler"),
                                  (MPI_Comm_rank(comm, &r), "Comm_rank"), (MPI_Comm_size(comm, &s), "Comm_size")] where problem == nil {
            problem = Self.initializationProblem(code: code, provided: 1, required: 0, operation: operation)
        }
        rank = Int(r)
        size = Int(max(s, 1))
        initializationError = problem
    }

    /// The world communicator, or the error that kept MPI from starting (naming the operation).
    public static func checkedWorld() throws -> MPICommunicator {
        if let error = world.initializationError { throw error }
        return world
    }

    /// The problem an MPI setup call's return `code` (and, for MPI_Init_thread, the `provided`
    /// thread level against the `required` one) reveals, or nil.
    static func initializationProblem(code: Int32, provided: Int32, required: Int32, operation: String = "Init_thread") -> MPIError? {
        if code != MPI_SUCCESS { return .failed(operation: operation, rank: -1, code: code, message: errorString(code)) }
        if provided < required { return .threadSupport(provided: provided, required: required) }
        return nil
    }

    /// MPI's text for an error code.
    static func errorString(_ code: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: 512)
        var length: Int32 = 0
        MPI_Error_string(code, &buffer, &length)
        return String(cString: buffer)
    }

    /// True when this process was started by an MPI launcher (mpirun, srun with PMI).
    public static var launchedByMPI: Bool {
        let env = ProcessInfo.processInfo.environment
        return env["OMPI_COMM_WORLD_SIZE"] != nil || env["PMI_SIZE"] != nil || env["PMIX_RANK"] != nil
    }

    /// The MPI library's own version string (callable before initialisation).
    public static var libraryVersion: String {
        var buffer = [CChar](repeating: 0, count: Int(fluoro_mpi_max_library_version_string()) + 1)
        var length: Int32 = 0
        MPI_Get_library_version(&buffer, &length)
        let text = String(cString: buffer)
        return text.split(separator: "\n").first.map(String.init)?.trimmingCharacters(in: .whitespaces) ?? text
    }

    func check(_ code: Int32, _ operation: String) throws {
        if let initializationError { throw initializationError }
        guard code != MPI_SUCCESS else { return }
        throw MPIError.failed(operation: operation, rank: rank, code: code, message: Self.errorString(code))
    }

    /// MPI counts are Int32: larger buffers go in chunks.
    static let maxChunk = Int(Int32.max / 2)

    public func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws {
        try allReduceSum(UnsafeMutableRawPointer(buffer.baseAddress), count: buffer.count, type: fluoro_mpi_float(),
                         stride: MemoryLayout<Float>.stride, name: "float")
    }

    public func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) throws {
        try allReduceSum(UnsafeMutableRawPointer(buffer.baseAddress), count: buffer.count, type: fluoro_mpi_double(),
                         stride: MemoryLayout<Double>.stride, name: "double")
    }

    /// In-place MPI_SUM over `count` elements of `type`, in chunks that fit MPI's Int32 counts.
    private func allReduceSum(_ base: UnsafeMutableRawPointer?, count: Int, type: MPI_Datatype, stride: Int, name: String) throws {
        if let initializationError { throw initializationError }
        guard let base else { return }
        var offset = 0
        while offset < count {
            let n = min(Self.maxChunk, count - offset)
            try check(MPI_Allreduce(fluoro_mpi_in_place(), base + offset * stride, Int32(n), type, fluoro_mpi_sum(), comm),
                      "Allreduce(\(name) x \(n))")
            offset += n
        }
    }

    public func barrier() throws {
        if let initializationError { throw initializationError }
        try check(MPI_Barrier(comm), "Barrier")
    }

    public func abort(code: Int32) -> Never {
        MPI_Abort(comm, code)
        exit(code)
    }
}
