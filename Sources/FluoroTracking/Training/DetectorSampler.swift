import FluoroShards
import FluoroSupport
import FluoroTensor
import Foundation

/// Detector training samples (METHOD §10), a pure function of (seed, sample index): an annotated
/// frame resized whole to Sc x Sc, flipped/turned with gamma and noise, standardised; its
/// landmarks in detector pixels. Any annotated frame serves, not only first frames (these are
/// too few in a small annotated set; the detector sees a single frame either way).
public final class DetectorSampler {
    let frames: TrackingSampler
    /// Every annotated (sequence, frame).
    let labelled: [(sequence: Int, frame: Int)]

    public init(dataset: ShardDataset, config: HiFTConfig, task: TrackingTask) throws {
        var one = config
        one.window = config.tubelet * 2  // the index needs only annotated frames, not long windows
        let index = try TrackingSampler(dataset: dataset, config: one, task: task)
        frames = index
        labelled = index.annotations.keys.sorted().flatMap { s in
            index.annotations[s]!.indices.filter { task.landmarks(in: index.annotations[s]![$0]) != nil }.map { (s, $0) }
        }
    }

    /// The Gaussian sigma in detector pixels: the tracker's sigma at the detector's scale (Sc / working side).
    public func sigma(for config: HiFTConfig, progress: Double = 1) -> Float { config.targetSigma(progress: progress) / 2 }

    /// Frames [count, Sc, Sc] and landmarks [count, K, 2] for samples `first ..< first + count`.
    public func batch(first: Int, count: Int, seed: UInt64, config c: HiFTConfig) throws -> (frames: [Float], points: [Float]) {
        let S = c.crop, P = S * S, K = c.landmarks
        var images = [Float](repeating: 0, count: count * P), points = [Float](repeating: 0, count: count * K * 2)
        for b in 0..<count {
            var rng = SplitMix64.derived(from: seed, 0x6465_7465_6374, UInt64(first + b))
            let (sequence, t) = labelled[Int(rng.next() % UInt64(labelled.count))]
            let info = frames.dataset.info(sequence: sequence)
            let stored = try frames.dataset.frames(sequence: sequence, range: t..<(t + 1))
            var image = WorkingScale.resample(TrackingFrame(stored: stored, index: 0, info: info), width: S, height: S)
            let augmentation = SquareAugmentation.random(&rng)
            augmentation.apply(&image, side: S)
            augmentation.photometric(&image, &rng)
            image.withUnsafeMutableBufferPointer { CropWindow.standardise($0.baseAddress!, count: P) }
            images.replaceSubrange((b * P)..<((b + 1) * P), with: image)
            let sx = Float(S) / Float(info.width), sy = Float(S) / Float(info.height)
            for (k, point) in frames.task.landmarks(in: frames.annotations[sequence]![t])!.enumerated() {
                let mapped = augmentation.map(x: point.x * sx - 0.5, y: point.y * sy - 0.5, side: S)
                points[(b * K + k) * 2] = mapped.x; points[(b * K + k) * 2 + 1] = mapped.y
            }
        }
        return (images, points)
    }
}
