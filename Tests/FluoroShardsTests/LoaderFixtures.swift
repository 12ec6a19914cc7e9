import Foundation
@testable import FluoroShards

/// Small synthetic sequences for the loader tests.
enum LoaderFixtures {
    /// A tiny clip spec: T=4, S=16, 2x4x4 tubelets (2 slots of 16 cells), one frame-masked slot.
    static let spec = ClipSpec(frames: 4, size: 16, tubelet: 2, patch: 4, tubeRatio: 0.75, frameRatio: 0.98,
                               frameMaskedSlots: 1)

    /// Pixel (s, f, y, x): a pattern that differs between sequences, frames and positions.
    static func pixel(sequence s: Int, frame f: Int, y: Int, x: Int) -> Int {
        (s * 31 + f * 7 + y * 3 + x * 5 + (x * y) % 11) % 256
    }

    /// The vesselness value of every pixel of frame f of sequence s: names the frame.
    static func frameCode(sequence s: Int, frame f: Int) -> UInt8 { UInt8((s * 20 + f) % 256) }

    /// Sequence `s`: UInt8 pixels from `pixel`, and (unless `vesselness` is false) a vesselness
    /// layer that is constant over each frame and equal to `frameCode`.
    static func sequence(_ s: Int, frames: Int, width: Int = 24, height: Int = 20, vesselness: Bool = true,
                         vesselnessEqualsPixels: Bool = false) -> FrameSequence {
        var pixels = [UInt8](), ves = [UInt8]()
        for f in 0..<frames {
            for y in 0..<height {
                for x in 0..<width {
                    let value = UInt8(pixel(sequence: s, frame: f, y: y, x: x))
                    pixels.append(value)
                    ves.append(vesselnessEqualsPixels ? value : frameCode(sequence: s, frame: f))
                }
            }
        }
        let info = SequenceInfo(id: "seq-\(s)", frameCount: frames, width: width, height: height,
                                pixelFormat: .uint8, bitsStored: 8, modality: "SYN", source: "test")
        return FrameSequence(info: info, pixels: Data(pixels), layers: vesselness ? [.vesselness: Data(ves)] : [:])
    }

    /// Seven sequences of 5 to 11 frames (all at least T=4).
    static func source(count: Int = 7) -> InMemoryClipSource {
        InMemoryClipSource((0..<count).map { sequence($0, frames: 5 + $0) })
    }

    /// All batches of steps 0..<steps.
    static func batches(_ loader: ClipLoader, steps: Int) throws -> [ClipBatch] {
        try (0..<steps).map { _ in try loader.next() }
    }

    /// The rank batches of one step concatenated in rank order.
    static func concatenate(_ parts: [ClipBatch]) -> ClipBatch {
        var whole = parts[0]
        for part in parts.dropFirst() {
            whole.count += part.count
            whole.clips += part.clips
            whole.vesselness += part.vesselness
            whole.mask += part.mask
            whole.plans += part.plans
            whole.vesselnessMissing += part.vesselnessMissing
        }
        return whole
    }
}

/// A source that fails for one sequence, as a damaged shard would.
final class FailingClipSource: ClipSource, @unchecked Sendable {
    struct Damaged: Error, CustomStringConvertible {
        var description: String { "checksum mismatch in test shard" }
    }

    let inner: InMemoryClipSource
    let failingID: String

    init(inner: InMemoryClipSource, failingID: String) {
        self.inner = inner
        self.failingID = failingID
    }

    var sequenceCount: Int { inner.sequenceCount }
    func info(sequence index: Int) -> SequenceInfo { inner.info(sequence: index) }
    func frames(sequence index: Int, range: Range<Int>) throws -> Data {
        if inner.info(sequence: index).id == failingID { throw Damaged() }
        return try inner.frames(sequence: index, range: range)
    }
    func layer(_ kind: LayerKind, sequence index: Int, range: Range<Int>) throws -> Data? {
        try inner.layer(kind, sequence: index, range: range)
    }
}
