import Foundation
import Testing
@testable import FluoroShards

/// shards/sample/: the tiny dataset FORMAT.md describes (two sequences, one shard).
/// Regenerate after a format change with `FLUORO_REGENERATE_SAMPLE=1 swift test --filter SampleDatasetTests`.
@Suite struct SampleDatasetTests {
    typealias S = ShardTestSupport
    let sample = S.repositoryRoot.appendingPathComponent("shards/sample")

    /// Rewrites the sample once per process when asked to (tests run in parallel).
    static let regenerated: Bool = {
        guard ProcessInfo.processInfo.environment["FLUORO_REGENERATE_SAMPLE"] == "1" else { return false }
        let sample = S.repositoryRoot.appendingPathComponent("shards/sample")
        try? FileManager.default.removeItem(at: sample)
        return (try? S.write(S.sampleSequences(), to: sample)) != nil
    }()

    init() { _ = Self.regenerated }

    @Test func sampleReadsBackAsItsGenerator() throws {
        let dataset = try ShardDataset(directory: sample)
        let expected = S.sampleSequences()
        #expect(dataset.sequenceCount == expected.count)
        for (i, s) in expected.enumerated() {
            let back = try dataset.sequence(i)
            #expect(back.info == s.info)
            #expect(back.pixels == s.pixels)
            #expect(back.layers == s.layers)
            #expect(back.annotations == s.annotations)
        }
        let report = ShardVerifier.verify(sample)
        #expect(report.ok, "\(report.problems)")
        #expect(report.frames == 7)
    }

    /// The writer is deterministic: packing the generator again gives the same bytes, so a format
    /// change that forgets to regenerate the sample (and update FORMAT.md) fails here.
    @Test func sampleIsByteIdenticalToAFreshPack() throws {
        let dir = S.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fresh = try S.write(S.sampleSequences(), to: dir)
        let stored = try #require(try DatasetManifest.load(directory: sample))
        #expect(fresh == stored)
        for shard in stored.shards {
            #expect(try Data(contentsOf: dir.appendingPathComponent(shard.file)) == Data(contentsOf: sample.appendingPathComponent(shard.file)))
        }
        let size = try stored.shards.reduce(0) { $0 + (try FileManager.default.attributesOfItem(atPath: sample.appendingPathComponent($1.file).path)[.size] as? Int ?? 0) }
        #expect(size < 16 << 10)
    }
}
