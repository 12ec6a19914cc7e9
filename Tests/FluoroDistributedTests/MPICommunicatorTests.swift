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
