import FluoroShards
import Foundation

extension TrackingFrame {
    /// Frame `index` of `pixels` ([T, H, W] as stored: UInt8, or UInt16 little endian), scaled to
    /// [0, 1] by dividing by 2^bitsStored - 1.
    public init(stored pixels: Data, index: Int, info: SequenceInfo) {
        let n = info.width * info.height
        let scale = 1 / Float((1 << max(1, min(info.bitsStored, 16))) - 1)
        var values = [Float](repeating: 0, count: n)
        pixels.withUnsafeBytes { raw in
            switch info.pixelFormat {
            case .uint8:
                let base = raw.baseAddress!.assumingMemoryBound(to: UInt8.self) + index * n
                for i in 0 ..< n { values[i] = Float(base[i]) * scale }
            case .uint16:
                let bytes = raw.baseAddress!.assumingMemoryBound(to: UInt8.self) + index * n * 2
                for i in 0 ..< n {
                    values[i] = Float(UInt16(bytes[2 * i]) | UInt16(bytes[2 * i + 1]) << 8) * scale
                }
            }
        }
        self.init(pixels: values, width: info.width, height: info.height)
    }

    /// All frames of sequence `index` of `dataset`, scaled to [0, 1].
    public static func frames(of dataset: ShardDataset, sequence index: Int) throws -> [TrackingFrame] {
        let info = dataset.info(sequence: index)
        let stored = try dataset.frames(sequence: index, range: 0 ..< info.frameCount)
        return (0 ..< info.frameCount).map { TrackingFrame(stored: stored, index: $0, info: info) }
    }
}
