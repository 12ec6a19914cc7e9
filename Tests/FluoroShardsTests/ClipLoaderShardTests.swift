import Foundation
import Testing
@testable import FluoroShards

/// The loader end to end over real shard datasets (`ShardDataset`).
@Suite struct ClipLoaderShardTests {
    let spec = LoaderFixtures.spec

    /// Sequences written to shards load into exactly the batches the same sequences give in memory,
    /// for 8- and 16-bit runs spread over several shards, with 2 ranks and 2 workers.
    @Test func shardDatasetGivesTheInMemoryBatches() throws {
        var sequences = (0..<5).map { LoaderFixtures.sequence($0, frames: 5 + $0) }
        sequences.append(LoaderFixtures.sequence(5, frames: 3))  // too short: skipped
        for k in 0..<3 {
            sequences.append(ShardTestSupport.sequence(id: "wide-\(k)", frames: 6 + k, height: 18, width: 26, format: .uint16,
                                                       seed: UInt32(20 + k), layers: [.vesselness, .vesselMask]))
        }
        let directory = ShardTestSupport.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let manifest = try ShardTestSupport.write(sequences, to: directory, target: 4_000)
        #expect(manifest.shards.count > 1)
        let dataset = try ShardDataset(directory: directory)
        let memory = InMemoryClipSource(sequences)

        func run(_ source: ClipSource) throws -> [[ClipBatch]] {
            let cursor = LoaderCursor(seed: 77, nextSample: 3)
            let loaders = try (0..<2).map {
                try ClipLoader(source: source, spec: spec, cursor: cursor, rank: $0, ranks: 2, batchPerRank: 3,
                               options: LoaderOptions(workers: 2, prefetchDepth: 2))
            }
            return try loaders.map { try LoaderFixtures.batches($0, steps: 4) }
        }
        let fromShards = try run(dataset), fromMemory = try run(memory)
        #expect(fromShards == fromMemory)
        let ids = Set(fromShards.joined().flatMap { $0.plans.map(\.sequenceID) })
        #expect(ids.contains("wide-0") && ids.contains("seq-0") && !ids.contains("seq-5"))
        #expect(try ClipLoader(source: dataset, spec: spec, seed: 0, batchPerRank: 1).skipped.map(\.id) == ["seq-5"])
    }

    /// The repository's sample dataset: the 3-frame run is skipped, the other one loads with its
    /// vesselness layer.
    @Test func sampleDatasetLoads() throws {
        let dataset = try ShardDataset(directory: ShardTestSupport.repositoryRoot.appendingPathComponent("shards/sample"))
        let loader = try ClipLoader(source: dataset, spec: spec, seed: 1, batchPerRank: 2, options: LoaderOptions(workers: 1))
        #expect(loader.skipped.map(\.id) == ["sample-b"])
        let batch = try loader.next()
        #expect(batch.plans.map(\.sequenceID) == ["sample-a", "sample-a"])
        #expect(batch.vesselnessMissing == [false, false])
        #expect(batch.vesselness.contains { $0 > 0 })
        #expect(batch.mask.reduce(0) { $0 + Int($1) } == 2 * spec.hiddenTokens)
    }
}
