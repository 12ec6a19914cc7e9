import Foundation
@testable import FluoroShards

/// Deterministic synthetic sequences and scratch directories for the shard tests.
enum ShardTestSupport {
    /// A sequence of noisy gradient frames: `T` frames of `H`x`W`, UInt8 or UInt16 (12-bit).
    static func sequence(id: String, frames t: Int, height h: Int, width w: Int, format: PixelFormat = .uint8,
                         seed: UInt32 = 1, layers: [LayerKind] = [], annotated: Bool = false) -> FrameSequence {
        var state = seed &* 2_654_435_761 &+ 17
        func next() -> UInt32 {
            state = state &* 1_664_525 &+ 1_013_904_223
            return state >> 16
        }
        let info = SequenceInfo(id: id, frameCount: t, width: w, height: h, pixelFormat: format,
                                bitsStored: format == .uint8 ? 8 : 12, frameTimeMs: 66.7, pixelSpacingMm: [0.2, 0.2],
                                modality: "SYN", source: "synth test")
        var pixels = Data(capacity: t * info.frameBytes)
        for f in 0..<t {
            for y in 0..<h {
                for x in 0..<w {
                    let base = (x * 3 + y * 2 + f * 5) % 200
                    let noise = Int(next() % 8)
                    if format == .uint8 {
                        pixels.append(UInt8(base + noise))
                    } else {
                        let v = UInt16(base * 16 + noise * 3)
                        pixels.append(UInt8(v & 0xFF))
                        pixels.append(UInt8(v >> 8))
                    }
                }
            }
        }
        var layerData: [LayerKind: Data] = [:]
        for (k, kind) in layers.enumerated() {
            let step = k + 3, offset = Int(seed)
            layerData[kind] = Data((0..<(t * h * w)).map { (i: Int) -> UInt8 in UInt8(truncatingIfNeeded: (i * step) / 7 + offset) })
        }
        var annotations: [FrameAnnotation] = []
        for f in 0..<(annotated ? t : 0) {
            let x = Float(f)
            let markers = [Point2(x: x + 0.5, y: 3.25), Point2(x: x + 9.5, y: 4.75)]
            let tip: Point2? = f % 3 == 0 ? nil : Point2(x: 1.5, y: x)
            annotations.append(FrameAnnotation(markers: markers, tip: tip, occluded: f % 4 == 1))
        }
        return FrameSequence(info: info, pixels: pixels, layers: layerData, annotations: annotations)
    }

    /// A fresh empty directory; the caller removes it.
    static func scratchDirectory(_ name: String = #function) -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("fluoro-shards-\(name.filter(\.isLetter))-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Writes `sequences` as a dataset and returns its manifest.
    @discardableResult
    static func write(_ sequences: [FrameSequence], to directory: URL, target: Int = 256 << 20) throws -> DatasetManifest {
        let writer = try ShardDatasetWriter(directory: directory, targetShardBytes: target)
        for s in sequences { try writer.append(s) }
        return try writer.finish()
    }

    /// The two sequences of shards/sample/ (the sample test regenerates and compares them).
    static func sampleSequences() -> [FrameSequence] {
        [sequence(id: "sample-a", frames: 4, height: 24, width: 32, format: .uint8, seed: 7, layers: [.vesselness, .vesselMask], annotated: true),
         sequence(id: "sample-b", frames: 3, height: 16, width: 20, format: .uint16, seed: 9, layers: [.catheterMask])]
    }

    /// The repository's root (from this file's path).
    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// Flips one byte of a file.
    static func flipByte(in url: URL, at offset: Int) throws {
        var data = try Data(contentsOf: url)
        data[offset] ^= 0x5A
        try data.write(to: url)
    }

    /// Cuts a file to `length` bytes.
    static func truncate(_ url: URL, to length: Int) throws {
        let data = try Data(contentsOf: url)
        try data.prefix(length).write(to: url)
    }
}
