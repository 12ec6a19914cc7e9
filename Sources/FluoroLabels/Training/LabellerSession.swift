import FluoroDistributed
import FluoroTensor
import FluoroTraining
import Foundation

/// Everything one labeller training run holds while it trains.
final class LabellerSession {
    let settings: LabellerSettings
    let sampler: VesselCropSampler
    let net: UNet                       // batch B = batchPerRank, crop x crop, training
    let validationNet: UNet             // batch 1, crop x crop, inference, same arena
    let optimizer: AdamW
    let reducer: GradientReducer
    let decayRanges: [Range<Int>]
    let metrics: MetricsLog?
    let images: FloatBuffer, targets: FloatBuffer, dLogits: FloatBuffer   // [B, 1, crop, crop]
    let startStep: Int
    let previousSeconds: Double
    var step: Int
    var lastCheckpoint: URL?
    var firstLoss: Float?, lastLoss: Float?
    var computeSeconds = 0.0
    var validation: SegmentationMetrics?

    init(settings: LabellerSettings, sampler: VesselCropSampler, parameters: ParameterArena, optimizer: AdamW,
         communicator: Communicator, metrics: MetricsLog?, startStep: Int, previousSeconds: Double, lastCheckpoint: URL?) throws {
        self.settings = settings; self.sampler = sampler; self.optimizer = optimizer; self.metrics = metrics
        let (B, S) = (settings.batchPerRank, settings.crop)
        net = try UNet(config: settings.config, batch: B, height: S, width: S, parameters: parameters, training: true)
        validationNet = try UNet(config: settings.config, batch: 1, height: S, width: S, parameters: parameters, training: false)
        reducer = GradientReducer(communicator: communicator, gradients: parameters.gradients.buffer)
        decayRanges = parameters.views.filter(\.decays).map { $0.offset..<($0.offset + $0.count) }
        images = FloatBuffer(count: B * S * S); targets = FloatBuffer(count: B * S * S); dLogits = FloatBuffer(count: B * S * S)
        self.startStep = startStep; self.previousSeconds = previousSeconds; self.lastCheckpoint = lastCheckpoint
        step = startStep
    }
}
