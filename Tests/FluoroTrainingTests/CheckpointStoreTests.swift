import FluoroSupport
import FluoroTensor
import Foundation
import Testing
@testable import FluoroTraining

@Suite(.serialized) struct CheckpointStoreTests {
    private func tempRun() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fluoro-ckpt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    private func tensors(_ value: Float) -> SafetensorsWriter {
        var writer = SafetensorsWriter()
        writer.add("w", shape: [2, 2], floats: [value, value + 1, value + 2, value + 3])
        return writer
    }

    @Test func savesLoadsAndKeepsTheLastK() throws {
        let run = try tempRun()
        defer { try? FileManager.default.removeItem(at: run) }
        let store = CheckpointStore(runDirectory: run, keep: 2)
        for step in [10, 20, 30] { try store.save(step: step, tensors: tensors(Float(step)), state: Data("{\"step\":\(step)}".utf8)) }
        #expect(store.completeSteps() == [20, 30])
        let latest = try store.latest()
        #expect(latest.step == 30)
        #expect(try latest.tensors.floats("w") == [30, 31, 32, 33])
        #expect(String(decoding: latest.state, as: UTF8.self) == "{\"step\":30}")
    }

    @Test func interruptedWriteLeavesThePreviousCheckpoint() throws {
        let run = try tempRun()
        defer { try? FileManager.default.removeItem(at: run) }
        let store = CheckpointStore(runDirectory: run)
        try store.save(step: 1, tensors: tensors(1), state: Data("{}".utf8))
        // A kill -9 mid-write leaves a temporary directory, or a renamed one without its marker.
        let partial = store.directory.appendingPathComponent(".tmp-step-00000002-999")
        try FileManager.default.createDirectory(at: partial, withIntermediateDirectories: true)
        try Data("half".utf8).write(to: partial.appendingPathComponent("tensors.safetensors"))
        let unmarked = store.directory.appendingPathComponent("step-00000003")
        try FileManager.default.createDirectory(at: unmarked, withIntermediateDirectories: true)
        #expect(try store.latest().step == 1)
        #expect(throws: CheckpointError.self) { try CheckpointStore.load(unmarked) }
    }

    @Test func corruptNewestFallsBackToAnOlderOne() throws {
        let run = try tempRun()
        defer { try? FileManager.default.removeItem(at: run) }
        let store = CheckpointStore(runDirectory: run)
        try store.save(step: 1, tensors: tensors(1), state: Data("{}".utf8))
        let newest = try store.save(step: 2, tensors: tensors(2), state: Data("{}".utf8))
        let file = newest.appendingPathComponent("tensors.safetensors")
        var bytes = try Data(contentsOf: file)
        bytes[bytes.count - 1] ^= 0xFF
        try bytes.write(to: file)
        #expect(throws: CheckpointError.self) { try CheckpointStore.load(newest) }
        #expect(try store.latest().step == 1)
    }

    @Test func fullDiskFailsCleanlyAndKeepsThePrevious() throws {
        let run = try tempRun()
        defer { try? FileManager.default.removeItem(at: run) }
        let store = CheckpointStore(runDirectory: run)
        try store.save(step: 1, tensors: tensors(1), state: Data("{}".utf8))
        var thrown: Error?
        DurableFile.withSimulatedFreeBytes(40) {
            do { try store.save(step: 2, tensors: tensors(2), state: Data("{}".utf8)) } catch { thrown = error }
        }
        let diskError = try #require(thrown as? DurableFileError)
        #expect(diskError.isDiskFull)
        #expect("\(diskError)".contains("disk is full"))
        #expect(store.completeSteps() == [1])
        #expect(try store.latest().step == 1)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: store.directory.path)
        #expect(leftovers == ["step-00000001"])
    }

    /// Writing a step that already has a complete checkpoint replaces it only once the new one is complete.
    @Test func rewritingAStepReplacesItWhole() throws {
        let run = try tempRun()
        defer { try? FileManager.default.removeItem(at: run) }
        let store = CheckpointStore(runDirectory: run)
        try store.save(step: 5, tensors: tensors(1), state: Data("{}".utf8))
        try store.save(step: 5, tensors: tensors(7), state: Data("{}".utf8))
        #expect(try store.latest().tensors.floats("w") == [7, 8, 9, 10])
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.directory.path) == ["step-00000005"])
    }

    @Test func emptyRunHasNoCheckpoint() throws {
        let run = try tempRun()
        defer { try? FileManager.default.removeItem(at: run) }
        #expect(throws: CheckpointError.self) { try CheckpointStore(runDirectory: run).latest() }
    }
}
