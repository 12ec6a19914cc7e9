import ArgumentParser
import FluoroModel
import FluoroShards
import FluoroSim
import FluoroSupport
import FluoroTraining
import Foundation

/// `fluoro bench loader`: clips per second from shards at a preset's clip shape, and raw LZ4
/// decode speed against the `lz4` tool on the same bytes, in one run.
struct BenchLoaderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loader",
        abstract: "Measure the clip loader (clips/s) and LZ4 decode speed against `lz4 -d` on the same bytes.",
        discussion: """
            Without --shards, a temporary synthetic dataset (simulator, 256x256 frames) is written and removed. \
            Speed needs a release build: swift build -c release.
            """)

    @Option(help: "A shard dataset to read (default: a temporary synthetic one).")
    var shards: String?

    @Option(help: "Sequences in the temporary synthetic dataset (without --shards).")
    var syntheticSequences = 16

    @Option(help: "Model preset whose clip shape is loaded (tiny, bench, small, base).")
    var preset = "bench"

    @Option(help: "Clips per batch.")
    var batch = 4

    @Option(help: "Batches timed per measurement.")
    var batches = 40

    @Option(help: "Loader worker thread counts to measure, comma-separated.")
    var workers = "1,2"

    @Option(help: "Repeats of each measurement (the median is reported).")
    var repeats = 3

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func run() throws {
        let spec = try ModelConfig.preset(preset).clipSpec
        let workerCounts = workers.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !workerCounts.isEmpty, workerCounts.allSatisfy({ $0 >= 0 }) else {
            throw ValidationError("--workers takes a comma-separated list of thread counts, e.g. 1,2")
        }
        _ = AllocatorTuning.keepLargeBuffersInHeap()
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("fluoro-bench-loader-\(getpid())")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let directory: URL
        if let shards {
            directory = URL(fileURLWithPath: shards)
        } else {
            directory = scratch.appendingPathComponent("dataset")
            let simulator = XRaySimulator(config: SimulatorConfig(frames: max(32, spec.frames * 2), size: 256, kind: .mixed, seed: 1))
            let writer = try ShardDatasetWriter(directory: directory)
            try simulator.sequences(0..<max(1, syntheticSequences), threads: 2) { try writer.append($0) }
            try writer.finish()
        }
        let dataset = try ShardDataset(directory: directory)
        let decode = try DecodeBenchmark.measure(dataset, scratch: scratch.appendingPathComponent("decode"))
        var loaderRates: [(workers: Int, clipsPerSecond: Double)] = []
        for w in workerCounts {
            var rates: [Double] = []
            for _ in 0..<max(1, repeats) {
                rates.append(try LoaderBenchmark.clipsPerSecond(source: dataset, spec: spec, batchPerRank: batch,
                                                                batches: batches, workers: w, requireVesselness: false))
            }
            loaderRates.append((w, rates.sorted()[rates.count / 2]))
        }
        if json {
            let object: [String: Any] = [
                "preset": preset, "clip": "\(spec.frames)x\(spec.size)x\(spec.size)", "batch": batch,
                "raw_bytes": decode.rawBytes, "compression_ratio": decode.compressionRatio,
                "reader_gbps": decode.readerGBps, "lz4_cli_gbps": decode.lz4GBps, "reader_vs_lz4": decode.ratioToLZ4,
                "loader": loaderRates.map { ["workers": $0.workers, "clips_per_s": $0.clipsPerSecond] },
            ]
            print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
            return
        }
        print("dataset: \(directory.path) — \(dataset.sequenceCount) sequences, \(String(format: "%.1f", Double(decode.rawBytes) / 1e6)) MB of pixels, compression ratio \(String(format: "%.3f", decode.compressionRatio))")
        print(String(format: "LZ4 decode, 1 thread: shard reader %.2f GB/s, lz4 -d %.2f GB/s on the same frames: reader = %.0f%% of the CLI",
                     decode.readerGBps, decode.lz4GBps, 100 * decode.ratioToLZ4))
        for (w, rate) in loaderRates {
            print(String(format: "loader, preset %@ (%dx%dx%d clips, batch %d), %d worker(s): %.1f clips/s",
                         preset, spec.frames, spec.size, spec.size, batch, w, rate))
        }
    }
}
