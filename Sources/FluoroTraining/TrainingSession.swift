import FluoroDistributed
import FluoroModel
import FluoroShards
import FluoroSupport
import FluoroTensor
import Foundation

/// What one `Pretrainer.run` holds while it trains: the resolved settings, the model and its
/// optimiser, the data, the reducer, the logs and the running counters. Built by
/// `Pretrainer.prepare`, advanced by `trainStep`, read by the logging and checkpoint steps.
final class TrainingSession {
    let settings: TrainingSettings
    let fingerprint: DatasetFingerprint
    let model: FIMAESC
    let optimizer: AdamW
    /// Ranges of the arena that get weight decay (the matrices).
    let decayRanges: [Range<Int>]
    let loader: ClipLoader
    let reducer: GradientReducer
    /// metrics.jsonl (coordinator only).
    let metrics: MetricsLog?
    /// The TensorBoard event file of this process (coordinator only).
    let tensorBoard: TensorBoardWriter?
    /// Renders the reconstruction panels (coordinator only).
    let views: ReconstructionViews?
    /// This rank's share of the validation clips (nil: no validation).
    let validation: ValidationSet?
    /// The last validation loss and its step, for the progress line.
    var lastValidation: (step: Int, loss: Float)?
    let schedule: LearningRateSchedule
    let watchdog: StallWatchdog
    /// The step the run started (or resumed) at, the step it stops at and the run's total.
    let startStep: Int
    let stopStep: Int
    let total: Int
    /// Progress lines every this many steps.
    let logEvery: Int
    /// Training seconds of the run before this process (from the checkpoint).
    let previousSeconds: Double
    let runStart = Date()

    /// Steps completed.
    var step: Int
    var lastCheckpoint: URL?
    var lastCheckpointTime = Date()
    /// The step of the last reconstruction panel.
    var lastPanelStep: Int?
    var firstLoss: Float?
    var lastLoss: Float?
    var commSeconds = 0.0, computeSeconds = 0.0, dataSeconds = 0.0
    /// The progress line (coordinator only prints).
    let progress: StepProgress
    /// Metrics and TensorBoard records dropped on a full disk (coordinator only writes).
    let reports = ReportWrites()
    /// Whether the running backward is the step's last micro-batch, whose finished buckets the
    /// overlapped all-reduce may start on (the earlier ones' sums are not final).
    var reducesDuringBackward = true
    /// The first error of an overlapped bucket all-reduce (raised after backward).
    var overlapFailure: Error?

    init(settings: TrainingSettings, fingerprint: DatasetFingerprint, model: FIMAESC, optimizer: AdamW, loader: ClipLoader,
         reducer: GradientReducer, metrics: MetricsLog?, tensorBoard: TensorBoardWriter?, views: ReconstructionViews?, validation: ValidationSet?, watchdog: StallWatchdog, startStep: Int, stopStep: Int,
         logEvery: Int, previousSeconds: Double, lastCheckpoint: URL?) {
        self.settings = settings
        self.fingerprint = fingerprint
        self.model = model
        self.optimizer = optimizer
        decayRanges = model.parameters.views.filter(\.decays).map { $0.offset..<($0.offset + $0.count) }
        self.loader = loader
        self.reducer = reducer
        self.metrics = metrics
        self.tensorBoard = tensorBoard
        self.views = views
        self.validation = validation
        schedule = settings.schedule
        self.watchdog = watchdog
        self.startStep = startStep
        self.stopStep = stopStep
        total = settings.steps
        self.logEvery = logEvery
        self.previousSeconds = previousSeconds
        self.lastCheckpoint = lastCheckpoint
        step = startStep
        progress = StepProgress(total: settings.steps, unit: "clips")
    }

    /// The parameters and gradients.
    var arena: ParameterArena { model.parameters }

    /// Stops the watchdog and the loader's workers.
    func close() {
        watchdog.stop()
        loader.close()
    }

    /// The run's summary so far.
    func summary() -> Pretrainer.Summary {
        let elapsed = commSeconds + computeSeconds + dataSeconds
        return Pretrainer.Summary(firstStep: startStep, lastStep: step, firstLoss: firstLoss, lastLoss: lastLoss,
                                  lastCheckpoint: lastCheckpoint,
                                  clipsPerSecond: Double((step - startStep) * settings.globalBatch) / max(elapsed, 1e-9),
                                  communicationShare: commSeconds / max(elapsed, 1e-9))
    }
}
