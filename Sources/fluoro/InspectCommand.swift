import ArgumentParser
import FluoroShards
import Foundation

/// `fluoro inspect PATH`: what a shard dataset (or one shard file) holds.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Summarise a shard dataset directory or one shard file: sequences, frames, sizes, bit depth, layers, annotations, compression.")

    @Argument(help: "A dataset directory (with manifest.json) or a single .flsh shard file.")
    var path: String

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    @Option(help: "List at most this many sequences in the text output (all in --json).")
    var maxSequences = 50

    /// One sequence in the summary.
    struct SequenceSummary: Codable {
        var index: Int
        var shard: String
        var indexInShard: Int
        var info: SequenceInfo
        var layers: [String]
        var annotated: Bool
        var streams: [StreamStorage]
        var compressionRatio: Double
    }

    /// The whole summary (the --json output).
    struct Summary: Codable {
        var path: String
        var kind: String
        var formatVersion: Int
        var shards: [DatasetManifest.Shard]
        var sequenceCount: Int
        var frameCount: Int
        var pixelBytes: Int
        var storedPixelBytes: Int
        var storedBytes: Int
        var compressionRatio: Double
        var sequences: [SequenceSummary]
    }

    func run() throws {
        let url = URL(fileURLWithPath: path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw ValidationError("\(path) does not exist")
        }
        let dataset: ShardDataset
        do {
            dataset = isDirectory.boolValue ? try ShardDataset(directory: url) : try ShardDataset(shardFile: url)
        } catch let error as ShardError {
            FileHandle.standardError.write(Data("error: \(error.description)\n".utf8))
            throw ExitCode(2)
        }
        let summary = Self.summarise(dataset, path: url.path, kind: isDirectory.boolValue ? "dataset" : "shard")
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(summary), as: UTF8.self))
        } else {
            print(text(summary))
        }
    }

    static func summarise(_ dataset: ShardDataset, path: String, kind: String) -> Summary {
        let sequences = (0..<dataset.sequenceCount).map { i -> SequenceSummary in
            let location = dataset.location(of: i)
            let streams = dataset.storage(sequence: i)
            let pixels = streams.first { $0.stream == "pixels" }
            return SequenceSummary(index: i, shard: location.shard, indexInShard: location.indexInShard, info: dataset.info(sequence: i),
                                   layers: dataset.layerKinds(sequence: i).map(\.rawValue), annotated: streams.contains { $0.stream == "annotations" },
                                   streams: streams, compressionRatio: ratio(pixels?.rawBytes ?? 0, pixels?.storedBytes ?? 0))
        }
        let m = dataset.manifest
        let raw = m.shards.reduce(0) { $0 + $1.pixelBytes }, stored = m.shards.reduce(0) { $0 + $1.storedPixelBytes }
        return Summary(path: path, kind: kind, formatVersion: m.formatVersion, shards: m.shards, sequenceCount: dataset.sequenceCount,
                       frameCount: m.frameCount, pixelBytes: raw, storedPixelBytes: stored,
                       storedBytes: m.shards.reduce(0) { $0 + $1.byteSize }, compressionRatio: ratio(raw, stored), sequences: sequences)
    }

    static func ratio(_ raw: Int, _ stored: Int) -> Double { stored > 0 ? (Double(raw) / Double(stored) * 1000).rounded() / 1000 : 0 }

    static func bytes(_ n: Int) -> String {
        if n >= 1 << 30 { return String(format: "%.2f GiB", Double(n) / Double(1 << 30)) }
        if n >= 1 << 20 { return String(format: "%.1f MiB", Double(n) / Double(1 << 20)) }
        if n >= 1 << 10 { return String(format: "%.1f KiB", Double(n) / 1024) }
        return "\(n) B"
    }

    func text(_ s: Summary) -> String {
        var lines = ["\(s.kind) \(s.path)",
                     "  format version \(s.formatVersion); \(s.shards.count) shard(s), \(s.sequenceCount) sequences, \(s.frameCount) frames, \(Self.bytes(s.storedBytes)) on disk",
                     "  pixels \(Self.bytes(s.pixelBytes)) raw, \(Self.bytes(s.storedPixelBytes)) stored: compression ratio \(String(format: "%.3f", s.compressionRatio))x",
                     "shards:"]
        for shard in s.shards {
            let hash = shard.xxh64.isEmpty ? "" : "  xxh64 \(shard.xxh64)"
            lines.append("  \(shard.file)  \(shard.sequenceCount) seq  \(shard.frameCount) frames  \(Self.bytes(shard.byteSize))  generation \(shard.generation)"
                         + "  layers [\(shard.layers.joined(separator: ", "))]\(hash)")
        }
        lines.append("sequences:")
        for q in s.sequences.prefix(maxSequences) {
            let i = q.info
            let ms = i.frameTimeMs.map { String(format: "%.1f ms", $0) } ?? "? ms"
            let spacing = i.pixelSpacingMm.map { $0.map { String(format: "%.3g", $0) }.joined(separator: "x") + " mm" } ?? "? mm"
            lines.append("  #\(q.index) \(i.id)  \(i.frameCount) frames \(i.width)x\(i.height) \(i.pixelFormat.rawValue) \(i.bitsStored)-bit"
                         + "  \(ms)  \(spacing)  \(i.modality) (\(i.source))  layers [\(q.layers.joined(separator: ", "))]"
                         + "  annotations \(q.annotated ? "yes" : "no")  ratio \(String(format: "%.3f", q.compressionRatio))x  \(q.shard)[\(q.indexInShard)]")
        }
        if s.sequences.count > maxSequences { lines.append("  … \(s.sequences.count - maxSequences) more (--max-sequences, or --json)") }
        return lines.joined(separator: "\n")
    }
}
