import FluoroShards
import FluoroSupport
import FluoroTensor
import Foundation

/// Fine-tuning samples (METHOD §10), each a pure function of (seed, global sample index), so any
/// rank count draws the same global batch and a resumed run continues the same stream:
/// a window of W consecutive frames ending at an annotated frame (with `paddedStarts` also at
/// frames 1 … W-2, the missing frames before the run's first repeating it, as the tracker pads); a crop centred on the first
/// frame's landmark mean plus a uniform offset of up to Sc/2 − 15·Sc/128 px per axis; past
/// estimates = truth + N(0, 1 px) (10% of samples 4 px; `pastNoise` changes the 1 px, `pastOffset`
/// adds one offset per landmark to all its past frames); flips, quarter turns, gamma and noise.
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
            let padded = config.paddedStarts == true && !frames.isEmpty && task.landmarks(in: frames[0]) != nil
            let firstEnd = padded ? 1 : config.window - 1
            for t in firstEnd..<max(firstEnd, frames.count) where task.landmarks(in: frames[t]) != nil {
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
        // Samples are drawn in parallel, each into its own one-sample batch (each has its own RNG,
        // so the result is the same for any thread count), then copied into place.
        let drawn = UnsafeMutablePointer<Result<TrackingBatch, Error>>.allocate(capacity: count)
        defer { drawn.deinitialize(count: count); drawn.deallocate() }
        Parallel.forEach(count) { b in
            drawn.advanced(by: b).initialize(to: Result { try self.single(index: first + b, seed: seed) })
        }
        for b in 0..<count { try place(drawn[b].get(), into: &batch, slot: b) }
        return batch
    }

    /// Sample `index` as a batch of one.
    func single(index: Int, seed: UInt64) throws -> TrackingBatch {
        let c = config, P = c.crop * c.crop, K = c.landmarks
        var one = TrackingBatch(windows: [Float](repeating: 0, count: c.window * P),
                                past: [Float](repeating: .nan, count: (c.window - 1) * K * 2),
                                current: [Float](repeating: 0, count: K * 2),
                                catheterMasks: [Float](repeating: 0, count: P), hasCatheterMask: [false])
        try fill(&one, slot: 0, index: index, seed: seed)
        return one
    }

    /// Copies a one-sample batch into slot `b`.
    func place(_ one: TrackingBatch, into batch: inout TrackingBatch, slot b: Int) {
        func copy(_ source: [Float], into target: inout [Float]) {
            target.replaceSubrange((b * source.count)..<((b + 1) * source.count), with: source)
        }
        copy(one.windows, into: &batch.windows)
        copy(one.past, into: &batch.past)
        copy(one.current, into: &batch.current)
        copy(one.catheterMasks, into: &batch.catheterMasks)
        batch.hasCatheterMask[b] = one.hasCatheterMask[0]
    }

    /// Draws sample `index` into slot `b` of `batch`.
    func fill(_ batch: inout TrackingBatch, slot b: Int, index: Int, seed: UInt64) throws {
        let c = config, S = c.crop, P = S * S, K = c.landmarks, W = c.window
        var rng = SplitMix64.derived(from: seed, 0x7472_6163_6b00, UInt64(index))
        let (sequence, end) = windows[Int(rng.next() % UInt64(windows.count))]
        let info = dataset.info(sequence: sequence)
        let scale = WorkingScale(width: info.width, height: info.height, crop: S)
        let labels = annotations[sequence]!
        let truth: [[(x: Float, y: Float)]?] = Self.windowFrames(end: end, window: W).map { t in
            task.landmarks(in: labels[t]).map { $0.map { scale.toWorking($0) } }
        }
        let origin = cropOrigin(truth: truth, rng: &rng)
        let augmentation = SquareAugmentation.random(&rng)
        let window = try croppedWindow(sequence: sequence, end: end, scale: scale, origin: origin, augmentation: augmentation, rng: &rng)
        batch.windows.replaceSubrange((b * W * P)..<((b + 1) * W * P), with: window)
        if let mask = try croppedMask(sequence: sequence, frame: end, scale: scale, origin: origin, augmentation: augmentation) {
            batch.catheterMasks.replaceSubrange((b * P)..<((b + 1) * P), with: mask)
            batch.hasCatheterMask[b] = true
        }
        let base = c.pastNoise ?? 1
        let sigma: Float = rng.nextUnit() < 0.1 ? max(4, base) : base
        let offsets = Self.pastOffsets(spread: c.pastOffset, landmarks: K, rng: &rng)
        for f in 0..<W {
            guard let points = truth[f] else { continue }
            for k in 0..<K {
                let (x, y) = augmentation.map(x: points[k].x - Float(origin.x), y: points[k].y - Float(origin.y), side: S)
                if f == W - 1 {
                    batch.current[(b * K + k) * 2] = x; batch.current[(b * K + k) * 2 + 1] = y
                } else {
                    let i = ((b * (W - 1) + f) * K + k) * 2
                    batch.past[i] = x + offsets[k].x + sigma * Float(ParameterArena.standardNormal(&rng))
                    batch.past[i + 1] = y + offsets[k].y + sigma * Float(ParameterArena.standardNormal(&rng))
                }
            }
        }
        if let f = c.trajectoryOnlyFraction, f > 0, rng.nextUnit() < Double(f) { hideAppearance(&batch, slot: b, rng: &rng) }
    }

    /// A trajectory-only sample: the window becomes unit Gaussian noise and the catheter mask goes.
    func hideAppearance(_ batch: inout TrackingBatch, slot b: Int, rng: inout SplitMix64) {
        let P = config.crop * config.crop, W = config.window
        for i in (b * W * P)..<((b + 1) * W * P) { batch.windows[i] = Float(ParameterArena.standardNormal(&rng)) }
        for i in (b * P)..<((b + 1) * P) { batch.catheterMasks[i] = 0 }
        batch.hasCatheterMask[b] = false
    }

    /// The window [W, Sc, Sc] ending at `end`: cut, augmented, standardised.
    func croppedWindow(sequence: Int, end: Int, scale: WorkingScale, origin: (x: Int, y: Int),
                       augmentation: SquareAugmentation, rng: inout SplitMix64) throws -> [Float] {
        let S = config.crop, P = S * S, W = config.window
        let info = dataset.info(sequence: sequence)
        let frames = Self.windowFrames(end: end, window: W), first = frames[0]
        let stored = try dataset.frames(sequence: sequence, range: first..<(end + 1))
        var window = [Float](repeating: 0, count: W * P)
        for f in 0..<W {
            let frame = scale.resize(TrackingFrame(stored: stored, index: frames[f] - first, info: info))
            window.withUnsafeMutableBufferPointer { CropWindow.cut(frame, origin: origin, crop: S, into: $0.baseAddress! + f * P) }
        }
        augmentation.apply(&window, side: S)
        augmentation.photometric(&window, &rng)
        window.withUnsafeMutableBufferPointer { CropWindow.standardise($0.baseAddress!, count: W * P) }
        return window
    }

    /// The catheter-body mask [Sc, Sc] of `frame` in {0, 1}, or nil when the run has none.
    func croppedMask(sequence: Int, frame: Int, scale: WorkingScale, origin: (x: Int, y: Int),
                     augmentation: SquareAugmentation) throws -> [Float]? {
        let info = dataset.info(sequence: sequence), S = config.crop
        var mask = [UInt8](repeating: 0, count: info.width * info.height)
        let present = try mask.withUnsafeMutableBytes {
            try dataset.layer(.catheterMask, sequence: sequence, range: frame..<(frame + 1), into: $0)
        }
        guard present else { return nil }
        let values = mask.map { Float($0) / 255 }
        let resized = scale.resize(TrackingFrame(pixels: values, width: info.width, height: info.height))
        var plane = [Float](repeating: 0, count: S * S)
        plane.withUnsafeMutableBufferPointer { CropWindow.cut(resized, origin: origin, crop: S, into: $0.baseAddress!) }
        augmentation.apply(&plane, side: S)
        return plane.map { $0 > 0.5 ? 1 : 0 }
    }

    /// Per landmark, the offset shared by its past estimates: N(0, spread²) per axis; zeros (and no
    /// draws, so the stream is unchanged) when `spread` is nil or 0.
    static func pastOffsets(spread: Float?, landmarks K: Int, rng: inout SplitMix64) -> [(x: Float, y: Float)] {
        guard let spread, spread > 0 else { return Array(repeating: (0, 0), count: K) }
        return (0..<K).map { _ in (spread * Float(ParameterArena.standardNormal(&rng)), spread * Float(ParameterArena.standardNormal(&rng))) }
    }

    /// The run's frames in a window of W ending at `end`: end-W+1 … end, those before frame 0
    /// replaced by frame 0 (the tracker's padding at the start of a run).
    static func windowFrames(end: Int, window W: Int) -> [Int] {
        (0..<W).map { max(0, end - W + 1 + $0) }
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
