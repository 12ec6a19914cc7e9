import FluoroSupport
import FluoroTensor
import FluoroTraining
import Foundation

/// Why a trained tracker cannot be loaded, naming the path and what to do.
public enum TrackerFileError: Error, CustomStringConvertible {
    case notATracker(path: String, reason: String)
    case noDetector(path: String)

    public var description: String {
        switch self {
        case let .notATracker(path, reason):
            return "\(path) is not a Fluoro tracker (\(reason)); pass a fine-tuning run directory or the file `fluoro export --run RUN --out tracker.safetensors` wrote"
        case .noDetector(let path):
            return "\(path) has no detector for automatic initialisation; fine-tune with --detector, or initialise by hand with --init"
        }
    }
}

/// A trained tracker on disk: safetensors with HiFT's parameter names (the detector's, if any,
/// under `detector.`) and metadata `format` = `fluoro-hift/1`, `config` (HiFTConfig JSON) and `task`.
public struct TrackerFile {
    public static let format = "fluoro-hift/1"
    public static let detectorPrefix = "detector."

    /// The tracker and optional detector, batch 1, ready to track.
    public struct Loaded {
        public var config: HiFTConfig
        public var task: TrackingTask
        public var model: HiFT
        public var detector: HiFTDetector?
    }

    /// Writes `model` (and `detector`) to `url`.
    public static func write(config: HiFTConfig, task: TrackingTask, model: ParameterArena, detector: ParameterArena?,
                             extra: [String: String] = [:], to url: URL) throws {
        var metadata = extra
        metadata["format"] = format
        metadata["config"] = String(decoding: try JSONEncoder.sorted.encode(config), as: UTF8.self)
        metadata["task"] = task.rawValue
        var writer = SafetensorsWriter(metadata: metadata)
        model.write(into: &writer)
        detector?.write(into: &writer, prefix: detectorPrefix)
        try DurableFile.write(try writer.encoded(), to: url)
    }

    /// Loads a tracker file, or the latest checkpoint of a fine-tuning run directory.
    public static func load(_ url: URL) throws -> Loaded {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue {
            return try FinetuneRun.loadTracker(run: url)
        }
        let file: SafetensorsFile
        do { file = try SafetensorsFile(contentsOf: url) } catch {
            throw TrackerFileError.notATracker(path: url.path, reason: "\(error)")
        }
        guard file.metadata["format"] == format, let json = file.metadata["config"],
              let task = file.metadata["task"].flatMap(TrackingTask.init(rawValue:)) else {
            let what = file.metadata["format"].map { "its format is \($0)" } ?? "no 'format' fluoro-hift/1 in its metadata (an exported encoder?)"
            throw TrackerFileError.notATracker(path: url.path, reason: what)
        }
        let config = try JSONDecoder().decode(HiFTConfig.self, from: Data(json.utf8))
        let model = HiFT(config: config, batch: 1)
        try model.parameters.load(from: file)
        var detector: HiFTDetector?
        if file.entries.keys.contains(where: { $0.hasPrefix(detectorPrefix) }) {
            let d = HiFTDetector(config: config, batch: 1)
            try d.parameters.load(from: file, prefix: detectorPrefix)
            detector = d
        }
        return Loaded(config: config, task: task, model: model, detector: detector)
    }
}

extension JSONEncoder {
    /// Pretty, sorted keys: files that diff well.
    static var sorted: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return e
    }
}
