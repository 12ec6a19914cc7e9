import ArgumentParser
import FluoroSupport

/// The `fluoro` tool: shards, weak labels, pretraining, export and tracking for X-ray video.
struct FluoroCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fluoro",
        abstract: "Self-supervised pretraining (FIMAE-SC) on interventional X-ray video.",
        version: FluoroVersion.fluoro,
        subcommands: [EnvCommand.self, SynthCommand.self, PackCommand.self, PretrainCommand.self, FinetuneCommand.self, TrackCommand.self, ExportCommand.self, EvaluateCommand.self, LabelCommand.self, TrainLabellerCommand.self, EvaluateLabelsCommand.self, FigureCommand.self, InspectCommand.self, VerifyCommand.self, BenchCommand.self, ReconstructCommand.self, ReportCommand.self]
    )
}
