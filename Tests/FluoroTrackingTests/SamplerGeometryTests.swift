import FluoroModel
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

    /// `paddedStarts`: windows may also end at frames 1 … W-2, padded with the run's first frame
    /// and its landmarks as the tracker pads them; off, every window holds W real frames.
    @Test func paddedStartsRepeatTheFirstFrameAndItsLandmark() throws {
        #expect(TrackingSampler.windowFrames(end: 1, window: 4) == [0, 0, 0, 1])
        #expect(TrackingSampler.windowFrames(end: 6, window: 4) == [3, 4, 5, 6])
        let dataset = try Self.dotDataset(side: 64)
        defer { try? FileManager.default.removeItem(at: dataset.directory) }
        var c = HiFTConfig.tiny
        c.landmarks = 1
        let plain = try TrackingSampler(dataset: dataset, config: c, task: .tip)
        #expect(plain.windows.map(\.end) == Array(3...9))
        c.paddedStarts = true
        let sampler = try TrackingSampler(dataset: dataset, config: c, task: .tip)
        #expect(sampler.windows.map(\.end) == Array(1...9))
        let S = c.crop, P = S * S, W = c.window
        var checked = 0
        for index in 0..<60 {
            var rng = SplitMix64.derived(from: 5, 0x7472_6163_6b00, UInt64(index))
            guard sampler.windows[Int(rng.next() % UInt64(sampler.windows.count))].end == 1 else { continue }
            let one = try sampler.single(index: index, seed: 5)
            func dot(_ f: Int) -> (x: Float, y: Float) {  // centroid of the pixels above half way to the peak
                let slot = Array(one.windows[(f * P)..<((f + 1) * P)])
                let mean = slot.reduce(0, +) / Float(P), cut = (slot.max()! + mean) / 2
                let bright = slot.indices.filter { slot[$0] > cut }
                return (Float(bright.map { $0 % S }.reduce(0, +)) / Float(bright.count), Float(bright.map { $0 / S }.reduce(0, +)) / Float(bright.count))
            }
            // Slots 0 … W-2 show frame 0 (the dot at one place), the last slot frame 1 (moved 2 px right, 1 up).
            let d0 = dot(0), last = dot(W - 1)
            for f in 1..<(W - 1) { #expect(hypotf(dot(f).x - d0.x, dot(f).y - d0.y) < 0.5, "index \(index), slot \(f)") }
            #expect(hypotf(last.x - d0.x, last.y - d0.y) > 1.5)
            // The past estimates of the padded slots are frame 0's landmark, each with its own noise.
            for f in 0..<(W - 1) { #expect(abs(one.past[2 * f] - d0.x) < 17 && abs(one.past[2 * f + 1] - d0.y) < 17) }
            checked += 1
        }
        #expect(checked >= 3)
    }

    /// `pastNoise`: the past estimates scatter around the landmark by that many pixels instead of 1.
    @Test func pastNoiseWidensThePastsScatter() throws {
        let dataset = try Self.dotDataset(side: 64)
        defer { try? FileManager.default.removeItem(at: dataset.directory) }
        func scatter(_ noise: Float?) throws -> Float {
            var c = HiFTConfig.tiny
            c.landmarks = 1; c.pastNoise = noise
            let batch = try TrackingSampler(dataset: dataset, config: c, task: .tip).batch(first: 0, count: 64, seed: 5)
            // Frame-to-frame motion is 2.2 px, so the last past estimate minus the current landmark is
            // that motion plus the noise; its spread over samples grows with the noise.
            var sum: Float = 0
            for b in 0..<64 {
                let last = (b * (c.window - 1) + c.window - 2) * 2
                sum += pow(batch.past[last] - batch.current[2 * b], 2) + pow(batch.past[last + 1] - batch.current[2 * b + 1], 2)
            }
            return (sum / 64).squareRoot()
        }
        let method = try scatter(nil), wide = try scatter(3)
        #expect(method > 2 && method < 4, "METHOD's 1 px (10% 4 px) plus the motion: \(method)")
        #expect(wide > method + 1.5, "3 px: \(wide) against \(method)")
        #expect(throws: ConfigError.self) { try HiFTConfig.tiny.overriding(withJSON: Data(#"{"pastNoise": -1}"#.utf8)) }
    }

    /// `pastOffset`: one offset per sample and landmark moves all its past estimates together, so
    /// the past frames stay as close to each other as without it while their mean moves away.
    @Test func pastOffsetMovesThePastTogether() throws {
        let dataset = try Self.dotDataset(side: 64)
        defer { try? FileManager.default.removeItem(at: dataset.directory) }
        func spreads(_ offset: Float?) throws -> (within: Float, between: Float) {
            var c = HiFTConfig.tiny
            c.landmarks = 1; c.pastOffset = offset
            let plain = try TrackingSampler(dataset: dataset, config: { var p = c; p.pastOffset = nil; return p }(), task: .tip)
            let a = try plain.batch(first: 0, count: 64, seed: 5)
            let b = try TrackingSampler(dataset: dataset, config: c, task: .tip).batch(first: 0, count: 64, seed: 5)
            // Differences against the same samples without an offset (other draws after it differ,
            // so compare the per-sample mean shift and the spread of the shift across past frames).
            var within: Float = 0, between: Float = 0
            let F = c.window - 1
            for s in 0..<64 {
                let d = (0..<F).map { f in b.past[(s * F + f) * 2] - a.past[(s * F + f) * 2] }
                let mean = d.reduce(0, +) / Float(F)
                between += mean * mean
                within += d.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(F)
            }
            return ((within / 64).squareRoot(), (between / 64).squareRoot())
        }
        let none = try spreads(nil)
        #expect(none.within == 0 && none.between == 0, "off: the stream is unchanged")
        let eight = try spreads(8)
        #expect(eight.between > 5 && eight.between < 11, "the shared offset: \(eight.between) px")
        #expect(eight.within < 4, "the frames move together: \(eight.within) px")
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
