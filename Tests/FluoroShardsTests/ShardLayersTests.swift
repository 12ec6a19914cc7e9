import Foundation
import Testing
@testable import FluoroShards

@Suite struct ShardLayersTests {
    typealias S = ShardTestSupport

    /// The stored bytes of every pixel stream of every shard, keyed by shard and sequence.
    private func pixelStreamBytes(_ dir: URL) throws -> [String: Data] {
        var out: [String: Data] = [:]
        for shard in try #require(try DatasetManifest.load(directory: dir)).shards {
            let url = dir.appendingPathComponent(shard.file)
            let bytes = try Data(contentsOf: url)
            for (i, record) in try ShardFile(url: url, manifestBytes: shard.byteSize).records.enumerated() {
                let entries = try #require(record.stream(.pixels)).entries
                out["\(shard.file)#\(i)"] = entries.reduce(into: Data()) { $0 += bytes[Int($1.offset)..<Int($1.offset + UInt64($1.length))] }
            }
        }
        return out
    }

    private func vesselness(_ info: SequenceInfo, _ index: Int) -> Data {
        Data((0..<(info.frameCount * info.width * info.height)).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ index) })
    }

    @Test func addingVesselnessLaterLeavesTheFramesUntouched() throws {
        let dir = S.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var input: [FrameSequence] = []
        for i in 0..<9 {
            let layers: [LayerKind] = i == 4 ? [.vesselMask] : []
            input.append(S.sequence(id: "r\(i)", frames: 4, height: 12, width: 12, seed: UInt32(i), layers: layers, annotated: i % 3 == 0))
        }
        let before = try S.write(input, to: dir, target: 2000)
        #expect(before.shards.count > 1)
        let streamsBefore = try pixelStreamBytes(dir)
        let filesBefore = try before.shards.map { try Data(contentsOf: dir.appendingPathComponent($0.file)) }

        var calls: [Int] = []
        let after = try ShardLayers.add(.vesselness, to: dir) { info, index in
            calls.append(index)
            return vesselness(info, index)
        }
        #expect(calls == Array(0..<9))
        #expect(try pixelStreamBytes(dir) == streamsBefore)
        // Bytes before each shard's old committed end are unchanged: nothing was rewritten.
        for (old, new) in zip(filesBefore, after.shards) {
            let now = try Data(contentsOf: dir.appendingPathComponent(new.file))
            #expect(now.prefix(old.count) == old)
            #expect(new.generation == 1 && new.layers.contains("vesselness"))
        }
        let dataset = try ShardDataset(directory: dir)
        for i in 0..<9 {
            let back = try dataset.sequence(i)
            #expect(back.pixels == input[i].pixels)
            #expect(back.layers[.vesselness] == vesselness(input[i].info, i))
            #expect(back.annotations == input[i].annotations)
            #expect(back.layers[.vesselMask] == input[i].layers[.vesselMask])
        }
        #expect(ShardVerifier.verify(dir).ok)
        // A second pass has nothing to do (resumable), unless asked to replace.
        calls = []
        try ShardLayers.add(.vesselness, to: dir) { info, index in calls.append(index); return vesselness(info, index) }
        #expect(calls.isEmpty)
    }

    @Test func interruptedLayerPassIsIgnoredThenResumed() throws {
        let dir = S.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = (0..<4).map { S.sequence(id: "r\($0)", frames: 3, height: 10, width: 10, seed: UInt32($0)) }
        let manifest = try S.write(input, to: dir, target: 700)
        #expect(manifest.shards.count >= 2)
        // The producer fails on sequence 3: earlier shards are committed, the failing shard is not.
        struct Stop: Error {}
        #expect(throws: Stop.self) {
            try ShardLayers.add(.vesselness, to: dir) { info, index in
                if index == 3 { throw Stop() }
                return vesselness(info, index)
            }
        }
        let last = try #require(try DatasetManifest.load(directory: dir)?.shards.last)
        let lastURL = dir.appendingPathComponent(last.file)
        // Simulate the crash's half-written tail after the committed end.
        let handle = try FileHandle(forWritingTo: lastURL)
        handle.seekToEndOfFile()
        handle.write(Data(repeating: 0xAB, count: 333))
        try handle.close()
        let partial = try ShardDataset(directory: dir)
        #expect(try partial.layer(.vesselness, sequence: 0, range: 0..<3) == vesselness(input[0].info, 0))
        #expect(try partial.layer(.vesselness, sequence: 3, range: 0..<3) == nil)
        #expect(try partial.frames(sequence: 3, range: 0..<3) == input[3].pixels)
        let report = ShardVerifier.verify(dir)
        #expect(report.ok, "\(report.problems)")
        #expect(report.notes.contains { $0.contains("after the committed end") })

        var calls: [Int] = []
        try ShardLayers.add(.vesselness, to: dir) { info, index in calls.append(index); return vesselness(info, index) }
        #expect(calls.contains(3) && !calls.contains(0))
        let done = try ShardDataset(directory: dir)
        for i in 0..<4 { #expect(try done.layer(.vesselness, sequence: i, range: 0..<3) == vesselness(input[i].info, i)) }
        #expect(ShardVerifier.verify(dir).ok)
    }

    @Test func chosenSequencesReplaceAndWrongSizes() throws {
        let dir = S.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = (0..<3).map { S.sequence(id: "r\($0)", frames: 2, height: 5, width: 6, seed: UInt32($0)) }
        try S.write(input, to: dir)
        try ShardLayers.add(.vesselness, to: dir, sequences: [1]) { info, i in vesselness(info, i) }
        var dataset = try ShardDataset(directory: dir)
        #expect(dataset.layerKinds(sequence: 0).isEmpty && dataset.layerKinds(sequence: 1) == [.vesselness])
        try ShardLayers.add(.vesselness, to: dir, sequences: [1], replace: true) { info, _ in Data(repeating: 7, count: info.frameCount * 30) }
        dataset = try ShardDataset(directory: dir)
        #expect(try dataset.layer(.vesselness, sequence: 1, range: 0..<2) == Data(repeating: 7, count: 60))
        do {
            try ShardLayers.add(.catheterMask, to: dir) { _, _ in Data(count: 5) }
            Issue.record("a wrong-sized layer was accepted")
        } catch let error as ShardError {
            #expect(error.description.contains("sequence 0 (id r0)") && error.description.contains("layer catheter_mask"))
        }
        #expect(ShardVerifier.verify(dir).ok)
    }
}
