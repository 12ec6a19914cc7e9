import Dispatch
import FluoroShards
import Foundation

/// Why a sequence could not be labelled.
public enum LabelError: Error, CustomStringConvertible, Equatable {
    /// The pixel bytes handed over do not match the sequence's frame size.
    case pixelSize(sequence: String, expected: Int, got: Int)

    public var description: String {
        switch self {
        case let .pixelSize(sequence, expected, got):
            return "sequence \(sequence): expected \(expected) pixel bytes, got \(got); the shard index and its frames disagree — run `fluoro verify` on the dataset"
        }
    }
}

/// Turns stored frames into the `.vesselness` layer (UInt8, round(v · 255)) with a `FrangiFilter`,
/// several frames at a time. The result for a frame does not depend on `threads`.
public struct VesselnessLabeller: Sendable {
    /// The filter applied to every frame.
    public var filter: FrangiFilter
    /// Frames filtered in parallel (at least 1).
    public var threads: Int

    public init(filter: FrangiFilter = FrangiFilter(), threads: Int = 1) {
        self.filter = filter
        self.threads = max(1, threads)
    }

    /// The layer for `frameCount` frames of `info` as stored (UInt8, or UInt16 little endian):
    /// pixels: [frameCount, H, W] → [frameCount, H, W] UInt8. Pixels are scaled to [0, 1] by
    /// `info.bitsStored` first.
    public func label(pixels: Data, info: SequenceInfo, frameCount: Int) throws -> Data {
        let plane = info.width * info.height
        let expected = frameCount * info.frameBytes
        guard pixels.count == expected else {
            throw LabelError.pixelSize(sequence: info.id, expected: expected, got: pixels.count)
        }
        var layer = Data(count: frameCount * plane)
        guard frameCount > 0, plane > 0 else { return layer }
        let bits = min(max(info.bitsStored, 1), info.pixelFormat == .uint8 ? 8 : 16)
        let scale = 1 / Float((1 << bits) - 1)
        let wide = info.pixelFormat == .uint16
        let workers = min(threads, frameCount)
        let filter = self.filter
        pixels.withUnsafeBytes { (source: UnsafeRawBufferPointer) in
            layer.withUnsafeMutableBytes { (target: UnsafeMutableRawBufferPointer) in
                let src = source.baseAddress!
                let dst = target.baseAddress!.assumingMemoryBound(to: UInt8.self)
                DispatchQueue.concurrentPerform(iterations: workers) { worker in
                    let workspace = FrangiWorkspace(filter: filter, width: info.width, height: info.height)
                    let image = UnsafeMutablePointer<Float>.allocate(capacity: plane)
                    let response = UnsafeMutablePointer<Float>.allocate(capacity: plane)
                    defer { image.deallocate(); response.deallocate() }
                    // Frames worker, worker + workers, ...: a fixed assignment.
                    for t in stride(from: worker, to: frameCount, by: workers) {
                        if wide {
                            let frame = src + t * plane * 2
                            for i in 0 ..< plane {
                                let value = UInt16(frame.load(fromByteOffset: 2 * i, as: UInt8.self))
                                    | UInt16(frame.load(fromByteOffset: 2 * i + 1, as: UInt8.self)) << 8
                                image[i] = min(Float(value) * scale, 1)
                            }
                        } else {
                            let frame = (src + t * plane).assumingMemoryBound(to: UInt8.self)
                            for i in 0 ..< plane { image[i] = min(Float(frame[i]) * scale, 1) }
                        }
                        workspace.apply(image, response)
                        let out = dst + t * plane
                        for i in 0 ..< plane { out[i] = UInt8(clamping: Int((response[i] * 255).rounded())) }
                    }
                }
            }
        }
        return layer
    }

    /// The whole layer of sequence `index` of `dataset`, decoding `chunk` frames at a time;
    /// `progress(frames)` is called after each chunk with the frames done so far in this sequence.
    public func label(dataset: ShardDataset, sequence index: Int, chunk: Int = 32,
                      progress: (Int) -> Void = { _ in }) throws -> Data {
        let info = dataset.info(sequence: index)
        let plane = info.width * info.height
        var layer = Data(capacity: info.frameCount * plane)
        let step = max(1, chunk)
        var start = 0
        while start < info.frameCount {
            let end = min(start + step, info.frameCount)
            let pixels = try dataset.frames(sequence: index, range: start ..< end)
            layer.append(try label(pixels: pixels, info: info, frameCount: end - start))
            progress(end)
            start = end
        }
        return layer
    }
}
