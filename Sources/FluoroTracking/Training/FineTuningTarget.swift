import FluoroShards
import FluoroTensor
import Foundation

/// What `Finetuner` trains: a model over a parameter arena whose gradients one call fills for a
/// slice of the global sample stream. The tracker and the detector both conform.
protocol FineTuningTarget: AnyObject {
    var parameters: ParameterArena { get }
    /// Views trained at the encoder's learning rate (a prefix of the arena: the encoder comes first).
    var encoderRange: Range<Int> { get }
    /// Zeroes the gradients, draws samples `first ..< first + count` and runs forward and backward;
    /// `progress` ∈ [0, 1] is how far fine-tuning is (the σ curriculum).
    func step(first: Int, count: Int, seed: UInt64, progress: Double) throws -> TrackingLoss
    /// Loads the `encoder.*` views from an exported encoder.
    func loadEncoder(from file: SafetensorsFile) throws
}

extension ParameterArena {
    /// The span of the views named `prefix*` (they are contiguous when listed together).
    func span(prefix: String) -> Range<Int> {
        let matching = views.filter { $0.name.hasPrefix(prefix) }
        guard let first = matching.first, let last = matching.last else { return 0..<0 }
        return first.offset..<(last.offset + last.count)
    }
}

/// HiFT on windows from a `TrackingSampler`.
final class TrackerTarget: FineTuningTarget {
    let model: HiFT
    let sampler: TrackingSampler
    init(model: HiFT, sampler: TrackingSampler) { self.model = model; self.sampler = sampler }
    var parameters: ParameterArena { model.parameters }
    var encoderRange: Range<Int> { model.parameters.span(prefix: "encoder.") }
    func step(first: Int, count: Int, seed: UInt64, progress: Double) throws -> TrackingLoss {
        try model.forwardBackward(sampler.batch(first: first, count: count, seed: seed), sigma: model.config.targetSigma(progress: progress))
    }
    func loadEncoder(from file: SafetensorsFile) throws { try model.loadEncoder(from: file) }
}

/// The detector on frames from a `DetectorSampler`.
final class DetectorTarget: FineTuningTarget {
    let detector: HiFTDetector
    let sampler: DetectorSampler
    init(detector: HiFTDetector, sampler: DetectorSampler) { self.detector = detector; self.sampler = sampler }
    var parameters: ParameterArena { detector.parameters }
    var encoderRange: Range<Int> { detector.parameters.span(prefix: "encoder.") }
    func step(first: Int, count: Int, seed: UInt64, progress: Double) throws -> TrackingLoss {
        let batch = try sampler.batch(first: first, count: count, seed: seed, config: detector.config)
        let loss = try detector.forwardBackward(frames: batch.frames, points: batch.points, sigma: sampler.sigma(for: detector.config, progress: progress))
        return TrackingLoss(total: loss, heatmap: loss, catheter: 0)
    }
    func loadEncoder(from file: SafetensorsFile) throws { try detector.loadEncoder(from: file) }
}
