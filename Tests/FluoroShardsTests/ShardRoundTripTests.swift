import Foundation
import Testing
@testable import FluoroShards

@Suite struct ShardRoundTripTests {
    typealias S = ShardTestSupport

    @Test func uint8AndUInt16WithLayersAndAnnotationsRoundTrip() throws {
        let dir = S.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = [
            S.sequence(id: "a8", frames: 5, height: 12, width: 17, format: .uint8, seed: 1, layers: [.vesselness, .catheterMask], annotated: true),
            S.sequence(id: "b16", frames: 4, height: 9, width: 10, format: .uint16, seed: 2, layers: [.vesselMask], annotated: true),
            S.sequence(id: "c16", frames: 3, height: 8, width: 8, format: .uint16, seed: 3),
        ]
        let manifest = try S.write(input, to: dir)
        #expect(manifest.sequenceCount == 3 && manifest.frameCount == 12 && manifest.shards.count == 1)
        let dataset = try ShardDataset(directory: dir)
        #expect(dataset.sequenceCount == 3)
        for (i, s) in input.enumerated() {
            let back = try dataset.sequence(i)
            #expect(back.info == s.info)
            #expect(back.pixels == s.pixels)
            #expect(back.layers == s.layers)
            #expect(back.annotations == s.annotations)
            #expect(Set(dataset.layerKinds(sequence: i)) == Set(s.layers.keys))
        }
        #expect(try dataset.layer(.vesselness, sequence: 1, range: 0..<2) == nil)
        // 16-bit pixels are stored as byte planes.
        #expect(dataset.storage(sequence: 1).first?.filter == "shuffle16")
        #expect(dataset.storage(sequence: 0).first?.filter == "none")
    }

    @Test func randomAccessToAMiddleSequenceAndFrameRange() throws {
        let dir = S.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = (0..<60).map { S.sequence(id: "seq\($0)", frames: 6 + $0 % 5, height: 10, width: 14, seed: UInt32($0), layers: $0 % 2 == 0 ? [.vesselness] : []) }
        try S.write(input, to: dir)
        let dataset = try ShardDataset(directory: dir)
        #expect(dataset.sequenceCount == 60)
        let s = input[33]
        let bytes = s.info.frameBytes
        let range = 2..<5
        let expected = s.pixels.subdata(in: (range.lowerBound * bytes)..<(range.upperBound * bytes))
        #expect(try dataset.frames(sequence: 33, range: range) == expected)
        // Zero-copy variant into the caller's buffer.
        var buffer = [UInt8](repeating: 0, count: range.count * bytes)
        try buffer.withUnsafeMutableBytes { try dataset.frames(sequence: 33, range: range, into: $0) }
        #expect(Data(buffer) == expected)
        let layer = try #require(try dataset.layer(.vesselness, sequence: 32, range: 1..<4))
        #expect(layer == input[32].layers[.vesselness]!.subdata(in: (1 * 140)..<(4 * 140)))
        #expect(dataset.info(sequence: 33) == s.info)
        #expect(dataset.location(of: 33).indexInShard == 33)
        // Concurrent readers of different sequences get their own bytes.
        let results = UnsafeMutableBufferPointer<Bool>.allocate(capacity: 60)
        defer { results.deallocate() }
        DispatchQueue.concurrentPerform(iterations: 60) { i in
            results[i] = (try? dataset.frames(sequence: i, range: 0..<input[i].info.frameCount)) == input[i].pixels
        }
        #expect(results.allSatisfy { $0 })
    }

    @Test func outOfRangeRequestsAreClearErrors() throws {
        let dir = S.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try S.write([S.sequence(id: "only", frames: 3, height: 4, width: 4)], to: dir)
        let dataset = try ShardDataset(directory: dir)
        #expect(throws: ShardError.self) { try dataset.frames(sequence: 1, range: 0..<1) }
        #expect(throws: ShardError.self) { try dataset.frames(sequence: 0, range: 2..<4) }
        var small = [UInt8](repeating: 0, count: 5)
        #expect(throws: ShardError.bufferSize(expected: 16, got: 5)) {
            try small.withUnsafeMutableBytes { try dataset.frames(sequence: 0, range: 0..<1, into: $0) }
        }
        let bad = FrameSequence(info: S.sequence(id: "x", frames: 2, height: 3, width: 3).info, pixels: Data(count: 5))
        let writer = try ShardDatasetWriter(directory: dir)
        #expect(throws: ShardError.self) { try writer.append(bad) }
    }

    @Test func sizeTargetSplitsIntoSeveralShards() throws {
        let dir = S.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // ~2.4 KB of pixels per sequence, noisy enough not to compress much; target 8 KB.
        let input = (0..<12).map { S.sequence(id: "s\($0)", frames: 4, height: 20, width: 30, seed: UInt32($0)) }
        let manifest = try S.write(input, to: dir, target: 8 << 10)
        #expect(manifest.shards.count >= 3)
        #expect(manifest.sequenceCount == 12)
        #expect(manifest.shards.map(\.sequenceCount).reduce(0, +) == 12)
        for shard in manifest.shards {
            let size = try FileManager.default.attributesOfItem(atPath: dir.appendingPathComponent(shard.file).path)[.size] as? Int
            #expect(size == shard.byteSize)
            #expect(shard.byteSize <= (8 << 10) + 4096, "shard \(shard.file) is \(shard.byteSize) bytes")
        }
        let dataset = try ShardDataset(directory: dir)
        for i in [0, 5, 11] { #expect(try dataset.sequence(i).pixels == input[i].pixels) }
        #expect(dataset.location(of: 11).shard == manifest.shards.last?.file)
    }

    @Test func appendingASecondBatchOfShards() throws {
        let dir = S.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = (0..<3).map { S.sequence(id: "first\($0)", frames: 3, height: 8, width: 8, seed: UInt32($0)) }
        let second = (0..<4).map { S.sequence(id: "second\($0)", frames: 2, height: 6, width: 9, format: .uint16, seed: UInt32(10 + $0)) }
        let m1 = try S.write(first, to: dir)
        let m2 = try S.write(second, to: dir, target: 600)
        #expect(m2.shards.prefix(m1.shards.count) == m1.shards[...])
        #expect(m2.shards.count > m1.shards.count)
        #expect(m2.sequenceCount == 7)
        #expect(Set(m2.shards.map(\.file)).count == m2.shards.count)
        let dataset = try ShardDataset(directory: dir)
        for (i, s) in (first + second).enumerated() { #expect(try dataset.sequence(i).pixels == s.pixels) }
    }

    @Test func interruptedWriteLeavesThePreviousManifest() throws {
        let dir = S.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = (0..<2).map { S.sequence(id: "kept\($0)", frames: 3, height: 8, width: 8, seed: UInt32($0)) }
        let before = try S.write(first, to: dir)
        do {
            // A writer that appends and never finishes (a crash): nothing new becomes visible.
            let writer = try ShardDatasetWriter(directory: dir)
            try writer.append(S.sequence(id: "lost", frames: 3, height: 8, width: 8, seed: 9))
        }
        // A leftover partial file and a sealed-but-unlisted shard from a crash are ignored.
        try Data("half a shard".utf8).write(to: dir.appendingPathComponent(".shard-000001.flsh.partial"))
        try Data("orphan".utf8).write(to: dir.appendingPathComponent("shard-000001.flsh"))
        #expect(try DatasetManifest.load(directory: dir) == before)
        let dataset = try ShardDataset(directory: dir)
        #expect(dataset.sequenceCount == 2)
        #expect(try dataset.sequence(1).pixels == first[1].pixels)
        // The next writer cleans up and appends normally, over the orphan's name.
        let after = try S.write([S.sequence(id: "next", frames: 2, height: 8, width: 8, seed: 5)], to: dir)
        #expect(after.sequenceCount == 3)
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent(".shard-000001.flsh.partial").path))
        #expect(ShardVerifier.verify(dir).ok)
        #expect(try ShardDataset(directory: dir).info(sequence: 2).id == "next")
    }
}
