import FluoroSupport
import FluoroTensor
import Foundation
import Testing

/// Test knobs stay with the test that sets them (issue 10, item 15): suites run in parallel in
/// one process, so a simulated full disk or a thread count must not leak into other threads.
@Suite struct TestIsolationTests {
    /// Runs `body` on a new thread (outside this test's task) and waits for it.
    private func onAnotherThread<T>(_ body: @escaping @Sendable () -> T) -> T {
        let box = ThreadResult<T>()
        Thread { box.value = body(); box.done.signal() }.start()
        box.done.wait()
        return box.value!
    }

    @Test func aSimulatedFullDiskIsSeenOnlyByItsTask() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fluoro-isolation-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = Data(repeating: 7, count: 100)
        DurableFile.withSimulatedFreeBytes(10) {
            #expect(throws: DurableFileError.self) { try DurableFile.write(data, to: dir.appendingPathComponent("mine")) }
            let other = onAnotherThread { (try? DurableFile.write(data, to: dir.appendingPathComponent("other"))) != nil }
            #expect(other, "a write outside the scope saw the simulated full disk")
        }
        try DurableFile.write(data, to: dir.appendingPathComponent("after"))
    }

    @Test func aThreadCountOverrideIsSeenOnlyByItsThread() {
        Parallel.withThreads(1) {
            let configured = onAnotherThread { Parallel.threads }
            Parallel.withThreads(7) {
                #expect(Parallel.threads == 7)
                #expect(onAnotherThread { Parallel.threads } == configured)
            }
            #expect(Parallel.threads == 1)
        }
    }
}

/// A value handed back from another thread.
private final class ThreadResult<T>: @unchecked Sendable {
    var value: T?
    let done = DispatchSemaphore(value: 0)
}
