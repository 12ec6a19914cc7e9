import FluoroShards
import Foundation

/// Frangi against the U-Net on simulated runs with exact vessel masks: both label every frame of
/// every masked sequence (optionally with its contrast scaled about the frame mean first), and
/// their stored UInt8 maps are scored against the truth (a vessel pixel holding contrast, as in
/// training) with `SegmentationMetrics`.
public struct LabellerComparison {
    public let dataset: ShardDataset
    public let frangi: VesselnessLabeller
    public let unet: UNetLabeller?

    public init(dataset: ShardDataset, frangi: VesselnessLabeller, unet: UNetLabeller?) {
        self.dataset = dataset; self.frangi = frangi; self.unet = unet
    }

    /// Metrics per method ("frangi", "unet") at one contrast factor (1: the frames as stored).
    public func run(contrast: Double = 1, maxFramesPerSequence: Int = .max) throws -> [String: SegmentationMetrics] {
        var result: [String: SegmentationMetrics] = ["frangi": .init()]
        if unet != nil { result["unet"] = .init() }
        let masked = (0..<dataset.sequenceCount).filter { dataset.layerKinds(sequence: $0).contains(.vesselMask) }
        for s in masked {
            let info = dataset.info(sequence: s)
            let n = min(info.frameCount, maxFramesPerSequence)
            let pixels = Self.scaleContrast(try dataset.frames(sequence: s, range: 0..<n), info: info, frames: n, factor: contrast)
            let truth = try Self.truth(dataset, sequence: s, frames: n)
            result["frangi"]!.add(layer: try frangi.label(pixels: pixels, info: info, frameCount: n), truth: truth)
            if let unet { result["unet"]!.add(layer: try unet.label(pixels: pixels, info: info, frameCount: n), truth: truth) }
        }
        return result
    }

    /// Vessel pixels holding contrast: vessel_mask > 0 and the simulator's vesselness > 0, [n, H, W].
    static func truth(_ dataset: ShardDataset, sequence s: Int, frames n: Int) throws -> [Bool] {
        let mask = try dataset.layer(.vesselMask, sequence: s, range: 0..<n) ?? Data()
        let soft = try dataset.layer(.vesselness, sequence: s, range: 0..<n)
        return (0..<mask.count).map { i in
            mask[mask.startIndex + i] > 0 && (soft.map { $0[$0.startIndex + i] > 0 } ?? true)
        }
    }

    /// UInt8 frames with their contrast scaled by `factor` about each frame's mean (others unchanged).
    static func scaleContrast(_ pixels: Data, info: SequenceInfo, frames n: Int, factor: Double) -> Data {
        guard factor != 1, info.pixelFormat == .uint8 else { return pixels }
        var out = pixels
        let plane = info.width * info.height
        out.withUnsafeMutableBytes { raw in
            let p = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            for t in 0..<n {
                let frame = p + t * plane
                var sum = 0.0
                for i in 0..<plane { sum += Double(frame[i]) }
                let mean = sum / Double(plane)
                for i in 0..<plane { frame[i] = UInt8(clamping: Int((mean + factor * (Double(frame[i]) - mean)).rounded())) }
            }
        }
        return out
    }
}

extension SegmentationMetrics {
    /// Counts a stored layer [n, H, W] UInt8 against truth [n, H, W].
    public mutating func add(layer: Data, truth: [Bool]) {
        precondition(layer.count == truth.count, "layer of \(layer.count) pixels, truth of \(truth.count)")
        layer.withUnsafeBytes { raw in
            truth.withUnsafeBufferPointer { t in
                add(scores: raw.baseAddress!.assumingMemoryBound(to: UInt8.self), truth: t.baseAddress!, count: truth.count)
            }
        }
    }
}
