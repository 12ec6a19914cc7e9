import Foundation

/// Raw throughput of the clip loader (decode, crop, resize, standardise, mask), for the benchmark.
public enum LoaderBenchmark {
    /// Clips per second delivered by a one-rank loader with `workers` threads, over `batches`
    /// batches of `batchPerRank` clips, after one warm-up batch (wall-clock, monotonic).
    public static func clipsPerSecond(source: ClipSource, spec: ClipSpec, batchPerRank: Int = 4, batches: Int,
                                      workers: Int, prefetchDepth: Int = 4, seed: UInt64 = 0,
                                      requireVesselness: Bool = false) throws -> Double {
        let options = LoaderOptions(workers: workers, prefetchDepth: prefetchDepth, requireVesselness: requireVesselness)
        let loader = try ClipLoader(source: source, spec: spec, seed: seed, batchPerRank: batchPerRank, options: options)
        defer { loader.close() }
        _ = try loader.next()
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<max(1, batches) { _ = try loader.next() }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return Double(max(1, batches) * batchPerRank) / seconds
    }
}
