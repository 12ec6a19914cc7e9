import COpenMPI

extension MPICommunicator {
    /// Starts `MPI_Iallreduce` (sum, in place) on `buffer`, in pieces of at most `maxChunk`
    /// elements (MPI counts are Int32).
    public func startAllReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws -> PendingReduction {
        let pending = MPIPendingReduction(communicator: self, count: buffer.count)
        guard let base = buffer.baseAddress else { return pending }
        var offset = 0
        while offset < buffer.count {
            let n = min(Self.maxChunk, buffer.count - offset)
            var request = fluoro_mpi_request_null()
            try check(MPI_Iallreduce(fluoro_mpi_in_place(), base + offset, Int32(n), fluoro_mpi_float(),
                                     fluoro_mpi_sum(), comm, &request), "Iallreduce(float x \(n))")
            pending.requests.append(request)
            offset += n
        }
        return pending
    }
}

/// The MPI requests of one started all-reduce.
final class MPIPendingReduction: PendingReduction {
    let communicator: MPICommunicator
    let count: Int
    var requests: [MPI_Request?] = []

    init(communicator: MPICommunicator, count: Int) {
        self.communicator = communicator
        self.count = count
    }

    func test() throws -> Bool {
        var done = true
        for i in requests.indices {
            var flag: Int32 = 0
            try communicator.check(MPI_Test(&requests[i], &flag, fluoro_mpi_status_ignore()),
                                   "Test(Iallreduce of \(count) floats)")
            if flag == 0 { done = false }
        }
        return done
    }

    func wait() throws {
        for i in requests.indices {
            try communicator.check(MPI_Wait(&requests[i], fluoro_mpi_status_ignore()),
                                   "Wait(Iallreduce of \(count) floats)")
        }
    }

    deinit {
        // A reduction dropped unfinished would leave MPI writing into a buffer nobody owns.
        for i in requests.indices { _ = MPI_Wait(&requests[i], fluoro_mpi_status_ignore()) }
    }
}
