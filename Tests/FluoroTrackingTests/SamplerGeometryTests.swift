import FluoroShards
import FluoroSupport
import Foundation
import Testing
@testable import FluoroTracking

/// The sampler's targets sit on what the frames show: a run whose only bright spot is its tip,
/// cropped, flipped and turned, must put the current landmark on the brightest pixel of the
/// window's last frame, and every past estimate near that frame's spot.
@Suite struct SamplerGeometryTests {
    /// 10 frames of `side` px, black but for a 3x3 white block centred on the tip, which moves.
    static func dotDataset(side: Int) throws -> ShardDataset {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fluoro-dot-\(UUID().uuidString)")
        let T = 10
        var pixels = Data(count: T * side * side)
        var annotations: [FrameAnnotation] = []
        for t in 0..<T {
            let cx = side / 3 + 2 * t, cy = side / 2 - t
            for dy in -1...1 { for dx in -1...1 { pixels[t * side * side + (cy + dy) * side + cx + dx] = 255 } }
            annotations.append(FrameAnnotation(tip: Point2(x: Float(cx) + 0.5, y: Float(cy) + 0.5)))
        }
        let info = SequenceInfo(id: "dot", frameCount: T, width: side, height: side, pixelFormat: .uint8, bitsStored: 8,
                                modality: "SYN", source: "test")
        let writer = try ShardDatasetWriter(directory: dir)
        try writer.append(FrameSequence(info: info, pixels: pixels, annotations: annotations))
        try writer.finish()
        return try ShardDataset(directory: dir)
    }

    @Test(arguments: [64, 128]) func targetsSitOnTheTip(side: Int) throws {
        let dataset = try Self.dotDataset(side: side)
        defer { try? FileManager.default.removeItem(at: dataset.directory) }
        var c = HiFTConfig.tiny  // Sc 32: 64-px frames at scale 1, 128-px frames halved
        c.landmarks = 1
        let sampler = try TrackingSampler(dataset: dataset, config: c, task: .tip)
        let S = c.crop, P = S * S, W = c.window
        let batch = try sampler.batch(first: 0, count: 24, seed: 5)
        var checked = 0
        for b in 0..<24 {
            let x = batch.current[2 * b], y = batch.current[2 * b + 1]
            guard x >= 1 && y >= 1 && x < Float(S - 2) && y < Float(S - 2) else { continue }
            let last = Array(batch.windows[((b * W + W - 1) * P)..<((b * W + W) * P)])
            let brightest = last.indices.max { last[$0] < last[$1] }!
            #expect(abs(Float(brightest % S) - x) <= 1.01 && abs(Float(brightest / S) - y) <= 1.01,
                    "sample \(b): target (\(x), \(y)), brightest pixel (\(brightest % S), \(brightest / S))")
            checked += 1
        }
        #expect(checked >= 12)
    }
}
