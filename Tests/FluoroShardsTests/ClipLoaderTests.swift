import Foundation
import Testing
@testable import FluoroShards

/// The loader's order and state: ranks, resume, worker counts, shutdown.
@Suite struct ClipLoaderTests {
    let spec = LoaderFixtures.spec

    private func loader(_ source: ClipSource, cursor: LoaderCursor = LoaderCursor(seed: 42), rank: Int = 0, ranks: Int = 1,
                        batch: Int, workers: Int = 1, depth: Int = 3) throws -> ClipLoader {
        try ClipLoader(source: source, spec: spec, cursor: cursor, rank: rank, ranks: ranks, batchPerRank: batch,
                       options: LoaderOptions(workers: workers, prefetchDepth: depth))
    }

    /// Concatenating the ranks' slices of a step gives the one-rank batch, bit for bit.
    @Test(arguments: [2, 4]) func ranksSliceTheGlobalBatch(ranks: Int) throws {
        let source = LoaderFixtures.source()
        let steps = 3, global = 8
        let whole = try LoaderFixtures.batches(loader(source, batch: global), steps: steps)
        let perRank = try (0..<ranks).map { r in
            try LoaderFixtures.batches(loader(source, rank: r, ranks: ranks, batch: global / ranks), steps: steps)
        }
        for step in 0..<steps {
            let joined = LoaderFixtures.concatenate(perRank.map { $0[step] })
            #expect(joined == whole[step])
            #expect(joined.samples == Array((step * global)..<((step + 1) * global)))
        }
    }

    /// A loader opened at a saved cursor continues exactly as the original run.
    @Test func resumeFromCursorContinuesExactly() throws {
        let source = LoaderFixtures.source()
        let original = try loader(source, batch: 3)
        let all = try LoaderFixtures.batches(original, steps: 5)
        #expect(original.cursor == LoaderCursor(seed: 42, nextSample: 15))

        let partial = try loader(source, batch: 3)
        _ = try LoaderFixtures.batches(partial, steps: 2)
        let saved = try JSONEncoder().encode(partial.cursor)
        let cursor = try JSONDecoder().decode(LoaderCursor.self, from: saved)
        #expect(cursor == LoaderCursor(seed: 42, nextSample: 6))
        let resumed = try LoaderFixtures.batches(loader(source, cursor: cursor, batch: 3), steps: 3)
        #expect(resumed == Array(all[2...]))
    }

    /// Going from 2 ranks x 4 to 4 ranks x 2 mid-epoch neither repeats nor skips a sample.
    @Test func resumeWithOtherRankCountKeepsTheStream() throws {
        let source = LoaderFixtures.source()
        var seen: [Int] = []
        var cursor = LoaderCursor(seed: 7)
        for (ranks, steps) in [(2, 2), (4, 3), (1, 1)] {
            let loaders = try (0..<ranks).map { try loader(source, cursor: cursor, rank: $0, ranks: ranks, batch: 8 / ranks) }
            for _ in 0..<steps {
                for rankLoader in loaders { seen += try rankLoader.next().samples }
            }
            #expect(Set(loaders.map(\.cursor)).count == 1)
            cursor = loaders[0].cursor
        }
        #expect(seen == Array(0..<48))
        #expect(cursor.nextSample == 48)
        // And the samples are the same clips a single rank would have produced.
        let single = try LoaderFixtures.batches(loader(source, cursor: LoaderCursor(seed: 7, nextSample: 16), batch: 8), steps: 1)[0]
        let mixed = try loader(source, cursor: LoaderCursor(seed: 7, nextSample: 16), rank: 1, ranks: 4, batch: 2).next()
        #expect(mixed.plans == Array(single.plans[2..<4]))
        #expect(mixed.clips == Array(single.clips[(2 * spec.pixelsPerClip)..<(4 * spec.pixelsPerClip)]))
    }

    /// Batches are bit-identical for 0 (inline), 1 and 3 worker threads.
    @Test func workerCountDoesNotChangeBatches() throws {
        let source = LoaderFixtures.source()
        let one = try LoaderFixtures.batches(loader(source, batch: 4, workers: 1), steps: 6)
        let three = try LoaderFixtures.batches(loader(source, batch: 4, workers: 3, depth: 2), steps: 6)
        let inline = try LoaderFixtures.batches(loader(source, batch: 4, workers: 0), steps: 6)
        #expect(one == three)
        #expect(one == inline)
    }

    /// Different seeds give different streams (the seed is really used).
    @Test func seedChangesTheStream() throws {
        let source = LoaderFixtures.source()
        let a = try loader(source, cursor: LoaderCursor(seed: 1), batch: 7).next()
        let b = try loader(source, cursor: LoaderCursor(seed: 2), batch: 7).next()
        #expect(a.plans != b.plans)
        #expect(a.mask != b.mask)
    }

    /// Stopping early: closing (or dropping) a loader with busy workers returns, and later calls say so.
    @Test func closeStopsWorkersWithoutDeadlock() throws {
        let source = LoaderFixtures.source()
        let early = try loader(source, batch: 2, workers: 3, depth: 2)
        _ = try early.next()
        early.close()
        #expect(throws: ClipLoaderError.closed) { try early.next() }
        do {
            let dropped = try loader(source, batch: 2, workers: 2, depth: 4)
            _ = try dropped.next()
        }
        // A loader never asked for a batch also shuts down cleanly.
        try loader(source, batch: 2, workers: 2, depth: 1).close()
    }

    /// The allocator settings apply here (glibc): `mallopt` is found and accepts them.
    @Test func allocatorTuningApplies() {
        #expect(AllocatorTuning.keepLargeBuffersInHeap())
    }

    /// Bad configurations are refused with a message.
    @Test func invalidConfigurationsAreRefused() throws {
        let source = LoaderFixtures.source()
        #expect(throws: ClipLoaderError.self) { try loader(source, rank: 2, ranks: 2, batch: 1) }
        #expect(throws: ClipLoaderError.self) { try loader(source, batch: 0) }
        #expect(throws: ClipLoaderError.self) { try loader(source, batch: 1, depth: 0) }
        var bad = spec
        bad.size = 18
        #expect(throws: ClipLoaderError.self) {
            try ClipLoader(source: source, spec: bad, seed: 0, batchPerRank: 1)
        }
    }
}
