import Testing
@testable import FluoroDistributed

@Suite struct MPICommunicatorTests {
    /// MPI singleton mode: one rank without mpirun. The all-reduce must leave values intact.
    @Test func singleRankAllReduce() throws {
        let world = MPICommunicator.world
        #expect(world.size == 1)
        #expect(world.rank == 0)
        var values: [Float] = [1.5, -2, 3.25]
        try world.allReduceSum(&values)
        #expect(values == [1.5, -2, 3.25])
        var doubles: [Double] = [0.125]
        try world.allReduceSum(&doubles)
        #expect(doubles == [0.125])
        try world.barrier()
    }

    /// MPI_Init_thread's provided level and every setup return code are checked (issue 10, item 9).
    @Test func initializationChecksTheThreadLevelAndReturnCodes() throws {
        #expect(MPICommunicator.world.initializationError == nil)
        #expect(try MPICommunicator.checkedWorld().size == 1)
        // Open MPI: MPI_THREAD_SINGLE 0 < MPI_THREAD_FUNNELED 1; MPI_ERR_OTHER 16.
        #expect(MPICommunicator.initializationProblem(code: 0, provided: 1, required: 1) == nil)
        let single = try #require(MPICommunicator.initializationProblem(code: 0, provided: 0, required: 1))
        #expect("\(single)".contains("thread level 0") && "\(single)".contains("MPI_THREAD_FUNNELED"))
        let failed = try #require(MPICommunicator.initializationProblem(code: 16, provided: 1, required: 1, operation: "Comm_rank"))
        #expect("\(failed)".contains("MPI Comm_rank failed") && "\(failed)".contains("code 16"))
    }

    @Test func libraryVersionIsOpenMPI() {
        #expect(MPICommunicator.libraryVersion.contains("Open MPI"))
    }

    @Test func localCommunicatorIsAGroupOfOne() throws {
        let local = LocalCommunicator()
        var values: [Float] = [4]
        try local.allReduceSum(&values)
        #expect(values == [4] && local.isCoordinator && local.size == 1)
    }
}
