import CFluoroKernels
import Foundation
import Testing
@testable import FluoroTensor

/// `Parallel`'s loops on the persistent worker pool (CFluoroKernels' `fk_pool_run`): every index
/// runs once, loops inside loops and loops from several threads at once fall back instead of
/// waiting on each other, and the caller's matrix precision reaches the workers.
@Suite(.serialized) struct WorkerPoolTests {
    init() { WorkerPool.reserve(threads: 2) }

    @Test func everyIndexRunsOnceOverManyLoops() {
        let loopsBefore = fk_pool_loops()
        defer { #expect(fk_pool_loops() > loopsBefore + 100) }  // the pool took (most of) them
        Parallel.withThreads(2) {
            let hits = UnsafeMutablePointer<Int32>.allocate(capacity: 97)
            defer { hits.deallocate() }
            for round in 0..<2000 {
                let count = 1 + round % 97
                hits.update(repeating: 0, count: 97)
                Parallel.forEach(count) { i in hits[i] += 1 }
                #expect((0..<count).allSatisfy { hits[$0] == 1 } && (count..<97).allSatisfy { hits[$0] == 0 }, "round \(round)")
            }
            var sum = [Double](repeating: 0, count: 2)
            sum.withUnsafeMutableBufferPointer { s in
                Parallel.chunks(1_000_000, minimumChunk: 1000) { range in
                    var local = 0.0
                    for i in range { local += Double(i) }
                    s[range.lowerBound == 0 ? 0 : 1] += local
                }
            }
            #expect(sum[0] + sum[1] == 499_999_500_000)
        }
    }

    @Test func loopsInsideLoopsAndFromOtherThreadsComplete() async {
        #expect(fk_pool_workers() >= 1)
        let total = UnsafeMutablePointer<Int>.allocate(capacity: 8 * 16)
        defer { total.deallocate() }
        total.update(repeating: 0, count: 8 * 16)
        Parallel.withThreads(2) {
            Parallel.forEach(8) { i in Parallel.forEach(16) { j in total[i * 16 + j] += 1 } }  // the inner loops go to GCD
        }
        #expect((0..<(8 * 16)).allSatisfy { total[$0] == 1 })
        // Four threads start loops at once: one gets the pool, the others run theirs on GCD.
        let done = await withTaskGroup(of: Bool.self) { group in
            for t in 0..<4 {
                group.addTask {
                    Parallel.withThreads(2) {
                        let values = UnsafeMutablePointer<Int>.allocate(capacity: 64)
                        defer { values.deallocate() }
                        for _ in 0..<200 { Parallel.forEach(64) { values[$0] = $0 * t } }
                        return (0..<64).allSatisfy { values[$0] == $0 * t }
                    }
                }
            }
            var all = true
            for await ok in group { all = all && ok }
            return all
        }
        #expect(done)
    }

    @Test func workersUseTheCallersMatrixPrecision() {
        let seen = UnsafeMutablePointer<Int>.allocate(capacity: 32)
        defer { seen.deallocate() }
        Parallel.withThreads(2) {
            MatrixPrecision.with(.bf16) {
                Parallel.forEach(32) { seen[$0] = MatrixPrecision.current == .bf16 ? 1 : 0 }
            }
        }
        #expect((0..<32).allSatisfy { seen[$0] == 1 })
    }
}
