import Foundation
import Testing
@testable import FluoroShards

@Suite struct ShardCorruptionTests {
    typealias S = ShardTestSupport

    /// A dataset of 5 sequences in one shard; returns its directory and shard URL.
    private func dataset() throws -> (URL, URL, [FrameSequence]) {
        let dir = S.scratchDirectory()
        let input = (0..<5).map { S.sequence(id: "run\($0)", frames: 6, height: 16, width: 16, seed: UInt32($0), layers: [.vesselness], annotated: true) }
        let manifest = try S.write(input, to: dir)
        return (dir, dir.appendingPathComponent(manifest.shards[0].file), input)
    }

    @Test func flippedByteInAFrameIsNamedByVerifyAndReader() throws {
        let (dir, shard, input) = try dataset()
        defer { try? FileManager.default.removeItem(at: dir) }
        let entry = try ShardFile(url: shard).records[3].stream(.pixels)!.entries[4]
        try S.flipByte(in: shard, at: Int(entry.offset) + Int(entry.length) / 2)

        let report = ShardVerifier.verify(dir)
        #expect(!report.ok)
        let frameProblem = report.problems.first { $0.stream == "pixels frame 4" }
        #expect(frameProblem?.sequenceIndex == 3)
        #expect(frameProblem?.sequenceId == "run3")
        #expect(frameProblem?.shard == shard.lastPathComponent)
        #expect(report.problems.contains { $0.stream == "file hash" })
        #expect(report.problems.count == 2, "\(report.problems)")

        let reader = try ShardDataset(directory: dir)
        // Other frames and sequences still read.
        #expect(try reader.frames(sequence: 3, range: 0..<4) == input[3].pixels.prefix(4 * 256))
        #expect(try reader.sequence(2).pixels == input[2].pixels)
        do {
            _ = try reader.frames(sequence: 3, range: 2..<6)
            Issue.record("a corrupt frame decoded")
        } catch let error as ShardError {
            let message = error.description
            #expect(message.contains(shard.lastPathComponent))
            #expect(message.contains("sequence 3 (id run3)"))
            #expect(message.contains("pixels frame 4"))
            #expect(message.contains("fluoro verify"))
        }
    }

    @Test func flippedByteInALayerOrTheAnnotationsIsNamed() throws {
        let (dir, shard, _) = try dataset()
        defer { try? FileManager.default.removeItem(at: dir) }
        let record = try ShardFile(url: shard).records[1]
        let layer = record.stream(.layer(.vesselness))!.entries[2]
        let notes = record.stream(.annotations)!.entries[0]
        try S.flipByte(in: shard, at: Int(layer.offset) + Int(layer.length) - 6)
        try S.flipByte(in: shard, at: Int(notes.offset) + Int(notes.length) / 2)
        let streams = ShardVerifier.verify(dir).problems.filter { $0.sequenceIndex == 1 }.map(\.stream)
        #expect(streams.contains("layer vesselness frame 2"))
        #expect(streams.contains("annotations"))
        let reader = try ShardDataset(directory: dir)
        #expect(throws: ShardError.self) { try reader.annotations(sequence: 1) }
        #expect(throws: ShardError.self) { try reader.layer(.vesselness, sequence: 1, range: 2..<3) }
    }

    @Test func truncatedShardNamesTheSequenceAndStreamWhereItIsCut() throws {
        let (dir, shard, _) = try dataset()
        defer { try? FileManager.default.removeItem(at: dir) }
        let entry = try ShardFile(url: shard).records[2].stream(.pixels)!.entries[3]
        try S.truncate(shard, to: Int(entry.offset) + 10)

        do {
            _ = try ShardDataset(directory: dir)
            Issue.record("a truncated shard opened")
        } catch let error as ShardError {
            let message = error.description
            #expect(message.contains(shard.lastPathComponent))
            #expect(message.contains("sequence 2 (id run2)"))
            #expect(message.contains("pixels frame 3"))
            #expect(message.contains("truncated"))
        }
        let report = ShardVerifier.verify(dir)
        #expect(!report.ok)
        #expect(report.problems.contains { $0.sequenceIndex == 2 && $0.stream == "pixels frame 3" && $0.message.contains("truncated") })
        // The lone file, without a manifest, says the same.
        let lone = ShardVerifier.verify(shard)
        #expect(lone.problems.contains { $0.sequenceIndex == 2 && $0.stream == "pixels frame 3" })
    }

    @Test func corruptIndexHeaderAndGarbageAreErrorsNotCrashes() throws {
        let (dir, shard, _) = try dataset()
        defer { try? FileManager.default.removeItem(at: dir) }
        let footer = try ShardFile(url: shard).footer
        let original = try Data(contentsOf: shard)
        try S.flipByte(in: shard, at: Int(footer.indexOffset) + 20)
        #expect(ShardVerifier.verify(dir).problems.contains { $0.stream == "index" })
        #expect(throws: ShardError.self) { try ShardDataset(directory: dir) }

        try original.write(to: shard)
        try S.flipByte(in: shard, at: 3)
        #expect(ShardVerifier.verify(dir).problems.contains { $0.stream == "header" })

        // Every prefix of a shard, and random bytes, are rejected cleanly.
        let lone = dir.appendingPathComponent("lone.flsh")
        for length in stride(from: 0, to: original.count, by: 97) {
            try original.prefix(length).write(to: lone)
            #expect(!ShardVerifier.verify(lone).ok)
            #expect(throws: ShardError.self) { try ShardDataset(shardFile: lone) }
        }
        var state: UInt32 = 99
        try Data((0..<4000).map { _ in state = state &* 1_664_525 &+ 1_013_904_223; return UInt8(state >> 24) }).write(to: lone)
        #expect(!ShardVerifier.verify(lone).ok)

        try Data("{not json".utf8).write(to: dir.appendingPathComponent(DatasetManifest.fileName))
        #expect(throws: ShardError.self) { try ShardDataset(directory: dir) }
        #expect(ShardVerifier.verify(dir).problems.first?.stream == "manifest")
        #expect(throws: ShardError.manifestMissing(directory: "/nonexistent-fluoro")) {
            try ShardDataset(directory: URL(fileURLWithPath: "/nonexistent-fluoro"))
        }
    }
}
