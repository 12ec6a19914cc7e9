import Foundation

/// Runs the PyTorch reference's `bench` command (`fimae_sc_reference.py`) and reads its step time,
/// plus the Python process's peak resident memory, for comparisons made in the same run.
public enum ReferenceBenchmark {
    public struct Result: Sendable {
        public var stepSeconds: Double
        public var clipsPerSecond: Double
        public var peakResidentBytes: Int
    }

    public enum Failure: Error, CustomStringConvertible {
        case failed(status: Int32, output: String)
        case unparsable(String)
        public var description: String {
            switch self {
            case let .failed(status, output):
                return "the PyTorch reference exited with \(status) (is torch installed? pip install torch safetensors):\n\(output)"
            case .unparsable(let output): return "cannot read step_ms/clips_per_s from the reference's output:\n\(output)"
            }
        }
    }

    /// Runs `python3 script bench --config preset --threads T --steps N --batch B` (plus `--amp`,
    /// PyTorch's bf16 autocast, when `amp`).
    public static func run(script: String, preset: String, batch: Int, threads: Int, steps: Int, amp: Bool = false) throws -> Result {
        let text = try output(script: script, arguments: ["bench", "--config", preset, "--threads", "\(threads)",
                                                          "--steps", "\(steps)", "--batch", "\(batch)"] + (amp ? ["--amp"] : []))
        guard let stepMs = value("step_ms", in: text), let clips = value("clips_per_s", in: text),
              let rss = value("peak_rss_kb", in: text) else {
            throw Failure.unparsable(text)
        }
        return Result(stepSeconds: stepMs / 1e3, clipsPerSecond: clips, peakResidentBytes: Int(rss) * 1024)
    }

    /// Runs a reference script (python3) with `arguments`; returns its output, with the process's
    /// peak RSS appended as `peak_rss_kb=N`.
    public static func output(script: String, arguments: [String]) throws -> String {
        // A wrapper reports the peak RSS of the Python process after the reference's own output.
        let wrapper = """
            import resource, runpy, sys
            sys.argv = [sys.argv[1]] + sys.argv[2:]
            runpy.run_path(sys.argv[0], run_name="__main__")
            print("peak_rss_kb=%d" % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", wrapper, script] + arguments
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("fluoro-reference-\(getpid()).txt")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: output) }
        let handle = try FileHandle(forWritingTo: output)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        process.waitUntilExit()
        try? handle.close()
        let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        guard process.terminationStatus == 0 else { throw Failure.failed(status: process.terminationStatus, output: text) }
        return text
    }

    /// The number after `key=` in `text`.
    public static func value(_ key: String, in text: String) -> Double? {
        guard let range = text.range(of: key + "=") else { return nil }
        return Double(text[range.upperBound...].prefix { "0123456789.".contains($0) })
    }
}
