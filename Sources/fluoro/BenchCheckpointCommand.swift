import ArgumentParser
import FluoroModel
import FluoroTraining
import Foundation

/// `fluoro bench checkpoint`: the time and the extra peak memory of writing and loading one
/// checkpoint of a preset's size (parameters and AdamW moments).
struct BenchCheckpointCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Measure writing and loading a checkpoint of a preset's size: seconds and the peak memory added.")

    @Option(help: "Model preset (tiny, bench, small, base).")
    var preset = "bench"

    @Option(help: "Directory for the temporary checkpoint (default: the system's temporary directory); removed after.")
    var dir: String?

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func run() throws {
        let config = try ModelConfig.preset(preset)
        let base = dir.map { URL(fileURLWithPath: $0) } ?? FileManager.default.temporaryDirectory
        let run = base.appendingPathComponent("fluoro-bench-checkpoint-\(getpid())")
        defer { try? FileManager.default.removeItem(at: run) }
        let r = try CheckpointBenchmark.run(config: config, run: run)
        if json {
            let encoder = JSONEncoder()
            encoder.keyEncodingStrategy = .convertToSnakeCase
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(r), as: UTF8.self))
            return
        }
        let mb = { (bytes: Int) in String(format: "%.1f MB", Double(bytes) / 1e6) }
        print("checkpoint of \(preset) (\(r.parameters) parameters): \(mb(r.fileBytes))")
        print(String(format: "write %.2f s, peak memory +%@; load %.2f s, peak memory +%@",
                     r.writeSeconds, mb(r.writePeakExtraBytes), r.loadSeconds, mb(r.loadPeakExtraBytes)))
    }
}
