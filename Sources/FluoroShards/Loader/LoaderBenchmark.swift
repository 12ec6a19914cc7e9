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

    /// Synthetic UInt8 sequences with a vesselness layer, for measuring the loader alone:
    /// `count` runs of `frames` frames of `width` x `height` pixels (deterministic pseudo-noise).
    public static func syntheticSource(count: Int, frames: Int, width: Int = 256, height: Int = 256) -> InMemoryClipSource {
        var state: UInt32 = 2_463_534_242
        let sequences = (0..<count).map { index -> FrameSequence in
            let n = frames * width * height
            var pixels = [UInt8](repeating: 0, count: n), ves = [UInt8](repeating: 0, count: n)
            for i in 0..<n {
                state ^= state << 13; state ^= state >> 17; state ^= state << 5
                pixels[i] = UInt8(truncatingIfNeeded: (i % width) / 2 + Int(state >> 28))
                ves[i] = UInt8(truncatingIfNeeded: state >> 24)
            }
            let info = SequenceInfo(id: "bench-\(index)", frameCount: frames, width: width, height: height,
                                    pixelFormat: .uint8, bitsStored: 8, modality: "SYN", source: "synth benchmark")
            return FrameSequence(info: info, pixels: Data(pixels), layers: [.vesselness: Data(ves)])
        }
        return InMemoryClipSource(sequences)
    }
}
