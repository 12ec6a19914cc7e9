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

    /// `trajectoryOnlyFraction`: the chosen samples' windows are unit noise without a catheter mask,
    /// their past estimates and target unchanged; off, the stream is what it was.
    @Test func trajectoryOnlySamplesHideTheWindowButKeepThePast() throws {
        let dataset = try Self.dotDataset(side: 64)
        defer { try? FileManager.default.removeItem(at: dataset.directory) }
        var c = HiFTConfig.tiny
        c.landmarks = 1
        let plain = try TrackingSampler(dataset: dataset, config: c, task: .tip).batch(first: 0, count: 16, seed: 5)
        c.trajectoryOnlyFraction = 0.5
        let mixed = try TrackingSampler(dataset: dataset, config: c, task: .tip).batch(first: 0, count: 16, seed: 5)
        let WP = c.window * c.crop * c.crop
        var hidden = 0
        for b in 0..<16 {
            let a = plain.windows[(b * WP)..<((b + 1) * WP)], m = mixed.windows[(b * WP)..<((b + 1) * WP)]
            #expect(Array(plain.current[(2 * b)..<(2 * b + 2)]) == Array(mixed.current[(2 * b)..<(2 * b + 2)]))
            let pastCount = (c.window - 1) * 2
            #expect(Array(plain.past[(b * pastCount)..<((b + 1) * pastCount)]) == Array(mixed.past[(b * pastCount)..<((b + 1) * pastCount)]))
            if Array(a) == Array(m) { continue }
            hidden += 1
            // Noise, not the window: about zero mean and unit variance, and no catheter mask.
            let mean = m.reduce(0, +) / Float(WP), variance = m.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(WP)
            #expect(abs(mean) < 0.05 && abs(variance - 1) < 0.05)
            #expect(!mixed.hasCatheterMask[b])
        }
        #expect(hidden >= 3 && hidden <= 13, "\(hidden) of 16 hidden at fraction 0.5")
    }
}
