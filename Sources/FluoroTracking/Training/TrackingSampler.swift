import FluoroShards
import FluoroSupport
import FluoroTensor
import Foundation

/// Fine-tuning samples (METHOD §10), each a pure function of (seed, global sample index), so any
/// rank count draws the same global batch and a resumed run continues the same stream:
/// a window of W consecutive frames ending at an annotated frame; a crop centred on the first
/// frame's landmark mean plus a uniform offset of up to Sc/2 − 15·Sc/128 px per axis; past
/// estimates = truth + N(0, 1 px) (10% of samples 4 px); flips, quarter turns, gamma and noise.
public final class TrackingSampler {
    public let dataset: ShardDataset
    public let config: HiFTConfig
    public let task: TrackingTask
    /// Every (sequence, last frame) a window can end at.
    public let windows: [(sequence: Int, end: Int)]
    let annotations: [Int: [FrameAnnotation]]

    /// Indexes the annotated windows of `dataset`; throws when there are none.
    public init(dataset: ShardDataset, config: HiFTConfig, task: TrackingTask) throws {
        self.dataset = dataset; self.config = config; self.task = task
        var annotations: [Int: [FrameAnnotation]] = [:], windows: [(Int, Int)] = [], longest = 0
        for s in 0..<dataset.sequenceCount {
            let frames = try dataset.annotations(sequence: s)
            guard frames.contains(where: { task.landmarks(in: $0) != nil }) else { continue }
            annotations[s] = frames
            longest = max(longest, frames.count)
            for t in (config.window - 1)..<max(config.window - 1, frames.count) where task.landmarks(in: frames[t]) != nil {
                windows.append((s, t))
            }
        }
        guard !annotations.isEmpty else {
            throw TrackingDataError.noAnnotations(directory: dataset.directory.path, task: task, sequences: dataset.sequenceCount)
        }
        guard !windows.isEmpty else {
            throw TrackingDataError.windowLongerThanRuns(directory: dataset.directory.path, window: config.window, longest: longest)
        }
        self.annotations = annotations
        self.windows = windows
    }

    /// Samples `first ..< first + count` of the stream of `seed` as one batch.
    public func batch(first: Int, count: Int, seed: UInt64) throws -> TrackingBatch {
        let c = config, P = c.crop * c.crop, K = c.landmarks
        var batch = TrackingBatch(windows: [Float](repeating: 0, count: count * c.window * P),
                                  past: [Float](repeating: .nan, count: count * (c.window - 1) * K * 2),
                                  current: [Float](repeating: 0, count: count * K * 2),
                                  catheterMasks: [Float](repeating: 0, count: count * P),
                                  hasCatheterMask: [Bool](repeating: false, count: count))
        for b in 0..<count { try fill(&batch, slot: b, index: first + b, seed: seed) }
        return batch
    }

    /// Draws sample `index` into slot `b` of `batch`.
    func fill(_ batch: inout TrackingBatch, slot b: Int, index: Int, seed: UInt64) throws {
        let c = config, S = c.crop, P = S * S, K = c.landmarks, W = c.window
        var rng = SplitMix64.derived(from: seed, 0x7472_6163_6b00, UInt64(index))
        let (sequence, end) = windows[Int(rng.next() % UInt64(windows.count))]
        let info = dataset.info(sequence: sequence)
        let scale = WorkingScale(width: info.width, height: info.height, crop: S)
        let labels = annotations[sequence]!
        let truth: [[(x: Float, y: Float)]?] = ((end - W + 1)...end).map { t in
            task.landmarks(in: labels[t]).map { $0.map(scale.toWorking) }
        }
        let origin = cropOrigin(truth: truth, rng: &rng)
        let augmentation = SquareAugmentation.random(&rng)
        var scratch = [Float](repeating: 0, count: P)
        let stored = try dataset.frames(sequence: sequence, range: (end - W + 1)..<(end + 1))
        batch.windows.withUnsafeMutableBufferPointer { windows in
            let window = windows.baseAddress! + b * W * P
            for f in 0..<W {
                let frame = scale.resize(TrackingFrame(stored: stored, index: f, info: info))
                CropWindow.cut(frame, origin: origin, crop: S, into: window + f * P)
                augmentation.apply(plane: window + f * P, side: S, scratch: &scratch)
            }
            augmentation.photometric(window, count: W * P, &rng)
            CropWindow.standardise(window, count: W * P)
        }
        if let mask = try dataset.layer(.catheterMask, sequence: sequence, range: end..<(end + 1)) {
            let resized = mask.withUnsafeBytes { scale.resize(layer: $0.bindMemory(to: UInt8.self), width: info.width, height: info.height) }
            var plane = [Float](repeating: 0, count: P)
            plane.withUnsafeMutableBufferPointer { p in
                CropWindow.cut(resized, origin: origin, crop: S, into: p.baseAddress!)
                augmentation.apply(plane: p.baseAddress!, side: S, scratch: &scratch)
            }
            for i in 0..<P { batch.catheterMasks[b * P + i] = plane[i] > 0.5 ? 1 : 0 }
            batch.hasCatheterMask[b] = true
        }
        let sigma: Float = rng.nextUnit() < 0.1 ? 4 : 1
        for f in 0..<W {
            guard let points = truth[f] else { continue }
            for k in 0..<K {
                let (x, y) = augmentation.map(x: points[k].x - Float(origin.x), y: points[k].y - Float(origin.y), side: S)
                if f == W - 1 {
                    batch.current[(b * K + k) * 2] = x; batch.current[(b * K + k) * 2 + 1] = y
                } else {
                    let i = ((b * (W - 1) + f) * K + k) * 2
                    batch.past[i] = x + sigma * Float(ParameterArena.standardNormal(&rng))
                    batch.past[i + 1] = y + sigma * Float(ParameterArena.standardNormal(&rng))
                }
            }
        }
    }

    /// The crop corner: the first annotated frame's landmark mean plus a uniform offset.
    func cropOrigin(truth: [[(x: Float, y: Float)]?], rng: inout SplitMix64) -> (x: Int, y: Int) {
        let S = Float(config.crop)
        let points = truth.first { $0 != nil }!!
        let mx = points.map(\.x).reduce(0, +) / Float(points.count), my = points.map(\.y).reduce(0, +) / Float(points.count)
        let reach = S / 2 - 15 * S / 128
        let ox = Float(rng.nextUnit() * 2 - 1) * reach, oy = Float(rng.nextUnit() * 2 - 1) * reach
        return CropWindow.origin(centreX: mx + ox, centreY: my + oy, crop: config.crop)
    }
}
