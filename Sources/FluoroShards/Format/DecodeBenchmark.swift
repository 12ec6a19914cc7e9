import Foundation

/// Single-thread decode speed of the shard reader against the `lz4` command-line tool on the very
/// same LZ4 frames (the pixel streams of a dataset), measured in one run.
public enum DecodeBenchmark {
    /// The outcome: bytes and medians over the repeats.
    public struct Result: Sendable {
        /// Decoded pixel bytes and their stored (compressed) size.
        public var rawBytes: Int
        public var storedBytes: Int
        /// Median seconds to decode everything: the shard reader, and `lz4 -d` to /dev/null.
        public var readerSeconds: Double
        public var lz4Seconds: Double

        public var compressionRatio: Double { Double(rawBytes) / Double(max(1, storedBytes)) }
        public var readerGBps: Double { Double(rawBytes) / readerSeconds / 1e9 }
        public var lz4GBps: Double { Double(rawBytes) / lz4Seconds / 1e9 }
        /// Reader speed as a fraction of the CLI's.
        public var ratioToLZ4: Double { lz4Seconds / readerSeconds }
    }

    /// Errors running the comparison.
    public enum Failure: Error, CustomStringConvertible {
        case lz4Failed(status: Int32)
        case mismatch(sequence: Int)
        public var description: String {
            switch self {
            case .lz4Failed(let status): return "lz4 -d exited with status \(status); is the lz4 tool installed (Debian package lz4)?"
            case .mismatch(let sequence): return "decoded pixels of sequence \(sequence) differ between passes"
            }
        }
    }

    /// Decodes every frame of `dataset` on one thread `repeats` times, then has `lz4 -d` decode
    /// the same LZ4 frames (cut out of the shards into one multi-frame file in `scratch`).
    public static func measure(_ dataset: ShardDataset, scratch: URL, repeats: Int = 7) throws -> Result {
        let infos = (0..<dataset.sequenceCount).map { dataset.info(sequence: $0) }
        var buffers = infos.map { [UInt8](repeating: 0, count: $0.frameCount * $0.frameBytes) }
        var ours: [Double] = []
        for _ in 0..<max(1, repeats) {
            let start = DispatchTime.now().uptimeNanoseconds
            for i in infos.indices {
                try buffers[i].withUnsafeMutableBytes { try dataset.frames(sequence: i, range: 0..<infos[i].frameCount, into: $0) }
            }
            ours.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        // The pixel streams, concatenated: a valid multi-frame .lz4 file.
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let cut = scratch.appendingPathComponent("pixels.lz4")
        var streams = Data()
        for shard in dataset.manifest.shards {
            let url = dataset.directory.appendingPathComponent(shard.file)
            let bytes = try Data(contentsOf: url)
            for record in try ShardFile(url: url).records {
                guard let pixels = record.stream(.pixels) else { continue }
                for e in pixels.entries { streams += bytes[Int(e.offset)..<Int(e.offset + UInt64(e.length))] }
            }
        }
        try streams.write(to: cut)
        defer { try? FileManager.default.removeItem(at: cut) }
        var theirs: [Double] = []
        for _ in 0..<max(1, repeats) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["lz4", "-d", "-c", "-q", cut.path]
            process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
            let start = DispatchTime.now().uptimeNanoseconds
            try process.run()
            process.waitUntilExit()
            theirs.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            guard process.terminationStatus == 0 else { throw Failure.lz4Failed(status: process.terminationStatus) }
        }
        let raw = buffers.reduce(0) { $0 + $1.count }
        return Result(rawBytes: raw, storedBytes: streams.count, readerSeconds: median(ours), lz4Seconds: median(theirs))
    }

    static func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }
}
