import ArgumentParser
import FluoroTracking
import FluoroTraining
import Foundation

/// `fluoro export`: the pretrained encoder as VideoMAE-named safetensors, or a check of one.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export a pretraining run's encoder (VideoMAE names) or a fine-tuning run's tracker as safetensors, or --check an exported encoder.",
        discussion: "Load it in PyTorch with safetensors.torch.load_file; see docs/TRAINING.md.")

    @Option(name: .customLong("run"), help: "The run directory to export from.")
    var runDirectory: String?

    @Option(help: "The checkpoint step to export (default: the latest complete one).")
    var step: Int?

    @Option(help: "Output file, e.g. encoder.safetensors.")
    var out: String?

    @Option(help: "Validate an exported file instead of exporting.")
    var check: String?

    func validate() throws {
        if check == nil && (runDirectory == nil || out == nil) {
            throw ValidationError("give --run DIR --out FILE to export, or --check FILE to validate an export")
        }
    }

    func run() throws {
        if let check {
            let config = try EncoderExport.check(URL(fileURLWithPath: check))
            print("\(check): OK — VideoMAE encoder, width \(config.width), depth \(config.depth), heads \(config.heads), "
                  + "tubelet \(config.tubelet)x\(config.patch)x\(config.patch), \(config.frames) frames of \(config.size)x\(config.size)")
            return
        }
        guard let runDirectory, let out else { return }
        let run = URL(fileURLWithPath: runDirectory)
        if FileManager.default.fileExists(atPath: Finetuner.settingsURL(run: run).path) {
            try FinetuneRun.export(run: run, step: step, to: URL(fileURLWithPath: out))
            let loaded = try TrackerFile.load(URL(fileURLWithPath: out))
            print("export: HiFT \(loaded.task.rawValue) tracker\(loaded.detector == nil ? "" : " with detector") from \(runDirectory) to \(out)")
            return
        }
        let store = CheckpointStore(runDirectory: URL(fileURLWithPath: runDirectory))
        let checkpoint = try step.map { try CheckpointStore.load(store.directory.appendingPathComponent(String(format: "step-%08d", $0))) }
            ?? store.latest()
        let count = try EncoderExport.export(checkpoint: checkpoint, to: URL(fileURLWithPath: out))
        print("export: \(count) encoder tensors from \(checkpoint.directory.path) (step \(checkpoint.step)) to \(out)")
    }
}
