import FluoroShards
import FluoroSupport
import Foundation

/// Why a dataset cannot train the labeller.
public enum LabellerDataError: Error, CustomStringConvertible, Equatable {
    case noVesselMasks(shards: String)
    case tooSmall(shards: String, side: Int, crop: Int)
    case tooFewSequences(shards: String, count: Int)

    public var description: String {
        switch self {
        case let .noVesselMasks(shards):
            return "\(shards) has no sequence with a vessel_mask layer; the U-Net learns from exact vessel masks: make training data with `fluoro synth --kind angio` (or mixed)"
        case let .tooSmall(shards, side, crop):
            return "\(shards): the largest masked frame side is \(side) px, smaller than the \(crop)-px training crop; use --crop \(side / 16 * 16) or larger frames"
        case let .tooFewSequences(shards, count):
            return "\(shards) has \(count) sequence(s) with vessel masks; at least 2 are needed (one is held out for validation)"
        }
    }
}

/// Random square crops of masked frames (METHOD §9) with their 0/1 targets, augmented and
/// standardised. The target is a vessel pixel that holds contrast: the simulator's `vessel_mask`
/// where its contrast-weighted `vesselness` is above 0 (without contrast a vessel is invisible).
/// Sample g is a pure function of (seed, g). Every 10th masked sequence (at least one) is held out.
public final class VesselCropSampler {
    public let dataset: ShardDataset
    public let crop: Int
    public let augmentation: VesselAugmentation
    /// Sequence indices used for training and for validation.
    public let training: [Int], heldOut: [Int]

    public init(dataset: ShardDataset, crop: Int, augmentation: VesselAugmentation = .init(), shards: String) throws {
        self.dataset = dataset; self.crop = crop; self.augmentation = augmentation
        let masked = (0..<dataset.sequenceCount).filter { dataset.layerKinds(sequence: $0).contains(.vesselMask) }
        guard !masked.isEmpty else { throw LabellerDataError.noVesselMasks(shards: shards) }
        guard masked.count >= 2 else { throw LabellerDataError.tooFewSequences(shards: shards, count: masked.count) }
        let fits = masked.filter { min(dataset.info(sequence: $0).width, dataset.info(sequence: $0).height) >= crop }
        guard !fits.isEmpty else {
            let side = masked.map { min(dataset.info(sequence: $0).width, dataset.info(sequence: $0).height) }.max() ?? 0
            throw LabellerDataError.tooSmall(shards: shards, side: side, crop: crop)
        }
        let held = fits.enumerated().filter { $0.offset % 10 == 9 || (fits.count < 10 && $0.offset == fits.count - 1) }.map(\.element)
        heldOut = held
        training = fits.filter { !held.contains($0) }
        guard !training.isEmpty else { throw LabellerDataError.tooFewSequences(shards: shards, count: fits.count) }
    }

    /// The (median) longer side of the training frames: the scale, in pixels, of the vessels the
    /// labeller learns (recorded in its model file; `UNetLabeller` labels larger frames reduced to it).
    public var trainingFrameSide: Int {
        let sides = training.map { max(dataset.info(sequence: $0).width, dataset.info(sequence: $0).height) }.sorted()
        return sides[sides.count / 2]
    }

    /// Training sample g: image and target, [crop, crop] each, written at `image` and `target`.
    public func sample(_ g: Int, seed: UInt64, image: UnsafeMutablePointer<Float>, target: UnsafeMutablePointer<Float>) throws {
        var rng = SplitMix64.derived(from: seed, UInt64(g), 0x0C_0E55E1)
        let sequence = training[Int(rng.next() % UInt64(training.count))]
        let frame = Int(rng.next() % UInt64(dataset.info(sequence: sequence).frameCount))
        var (x, t) = try read(sequence: sequence, frame: frame, rng: &rng)
        augmentation.apply(image: &x, target: &t, side: crop, rng: &rng)
        x.withUnsafeMutableBufferPointer { FramePixels.standardise($0.baseAddress!, count: $0.count) }
        image.update(from: x, count: x.count); target.update(from: t, count: t.count)
    }

    /// A random crop of one frame: pixels in [0, 1] and the target, [crop, crop] each.
    func read(sequence: Int, frame: Int, rng: inout SplitMix64) throws -> ([Float], [Float]) {
        let info = dataset.info(sequence: sequence)
        let pixels = try dataset.frames(sequence: sequence, range: frame..<(frame + 1))
        let mask = try dataset.layer(.vesselMask, sequence: sequence, range: frame..<(frame + 1)) ?? Data()
        let soft = try dataset.layer(.vesselness, sequence: sequence, range: frame..<(frame + 1))
        var full = [Float](repeating: 0, count: info.width * info.height)
        full.withUnsafeMutableBufferPointer { FramePixels.unit(pixels, frame: 0, info: info, into: $0.baseAddress!) }
        let x0 = Int(rng.next() % UInt64(info.width - crop + 1)), y0 = Int(rng.next() % UInt64(info.height - crop + 1))
        var image = [Float](repeating: 0, count: crop * crop), target = image
        for y in 0..<crop {
            for x in 0..<crop {
                let i = (y0 + y) * info.width + x0 + x
                image[y * crop + x] = full[i]
                let visible = soft.map { $0[$0.startIndex + i] > 0 } ?? true
                target[y * crop + x] = mask[mask.startIndex + i] > 0 && visible ? 1 : 0
            }
        }
        return (image, target)
    }

    /// Validation crop k of held-out sequence frames (no augmentation; a fixed frame and place per k).
    public func validation(_ k: Int, image: UnsafeMutablePointer<Float>, target: UnsafeMutablePointer<Float>) throws {
        var rng = SplitMix64.derived(from: 0xFA11, UInt64(k))
        let sequence = heldOut[k % heldOut.count]
        let frame = Int(rng.next() % UInt64(dataset.info(sequence: sequence).frameCount))
        var (x, t) = try read(sequence: sequence, frame: frame, rng: &rng)
        x.withUnsafeMutableBufferPointer { FramePixels.standardise($0.baseAddress!, count: $0.count) }
        image.update(from: x, count: x.count); target.update(from: t, count: t.count)
    }
}
