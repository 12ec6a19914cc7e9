import Foundation

/// Errors reading a run directory for a report, naming the path and what to do.
public enum RunReportError: Error, CustomStringConvertible {
    case notARun(path: String)

    public var description: String {
        switch self {
        case .notARun(let path):
            return "\(path) is not a run directory (no config.json nor metrics.jsonl); pass the --run of `fluoro pretrain`"
        }
    }
}

/// What a run directory holds, read once for a report: the config, the metrics lines, the
/// complete checkpoints and the newest reconstruction panel.
public struct RunSnapshot {
    /// One complete checkpoint.
    public struct CheckpointEntry {
        public var step: Int
        public var writtenAt: String
        public var trainingSeconds: Double
        public var directory: URL
    }

    public var run: URL
    /// config.json as written (pretty JSON), if present.
    public var configText: String?
    /// metrics.jsonl, one record per step.
    public var metrics: [[String: Any]]
    public var checkpoints: [CheckpointEntry]
    /// `images/step-N.png` with the largest N, and N.
    public var latestPanel: (step: Int, url: URL)?

    /// Reads `run`; throws when it has neither config.json nor metrics.jsonl.
    public init(run: URL) throws {
        let config = run.appendingPathComponent("config.json"), metricsURL = run.appendingPathComponent("metrics.jsonl")
        let fm = FileManager.default
        guard fm.fileExists(atPath: config.path) || fm.fileExists(atPath: metricsURL.path) else {
            throw RunReportError.notARun(path: run.path)
        }
        self.run = run
        configText = try? String(contentsOf: config, encoding: .utf8)
        metrics = (try? MetricsLog.read(metricsURL)) ?? []
        checkpoints = Self.checkpoints(CheckpointStore(runDirectory: run))
        let images = run.appendingPathComponent("images")
        latestPanel = ((try? fm.contentsOfDirectory(atPath: images.path)) ?? []).compactMap { name -> (Int, URL)? in
            guard name.hasPrefix("step-"), name.hasSuffix(".png"), let n = Int(name.dropFirst(5).dropLast(4)) else { return nil }
            return (n, images.appendingPathComponent(name))
        }.max { $0.0 < $1.0 }.map { (step: $0.0, url: $0.1) }
    }

    /// The complete checkpoints with their state's time stamps.
    static func checkpoints(_ store: CheckpointStore) -> [CheckpointEntry] {
        store.completeSteps().compactMap { step in
            let directory = store.directory.appendingPathComponent(CheckpointStore.name(step: step))
            guard let data = try? Data(contentsOf: directory.appendingPathComponent("state.json")),
                  let state = try? JSONDecoder().decode(TrainingState.self, from: data) else { return nil }
            return CheckpointEntry(step: step, writtenAt: state.writtenAt, trainingSeconds: state.trainingSeconds, directory: directory)
        }
    }

    /// The values of `key` against step, for the records that have both.
    public func series(_ key: String) -> [(x: Double, y: Double)] {
        metrics.compactMap { record in
            guard let step = (record["step"] as? NSNumber)?.doubleValue, let v = (record[key] as? NSNumber)?.doubleValue else { return nil }
            return (step, v)
        }
    }

    /// Clips/s over training time: (seconds of training so far, clips/s over the last `window` steps).
    public func throughput(window: Int = 10) -> [(x: Double, y: Double)] {
        var elapsed = 0.0, recent: [(clips: Double, seconds: Double)] = [], out: [(x: Double, y: Double)] = []
        for record in metrics {
            guard let seconds = (record["step_seconds"] as? NSNumber)?.doubleValue,
                  let batch = (record["global_batch"] as? NSNumber)?.doubleValue else { continue }
            elapsed += seconds
            recent.append((batch, seconds))
            if recent.count > window { recent.removeFirst() }
            let total = recent.reduce(0.0) { $0 + $1.seconds }
            out.append((elapsed, recent.reduce(0.0) { $0 + $1.clips } / max(total, 1e-9)))
        }
        return out
    }
}
