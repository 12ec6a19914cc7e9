import FluoroSupport
import FluoroTensor
import Foundation

/// Errors finding or reading checkpoints, naming the directory and what to do.
public enum CheckpointError: Error, CustomStringConvertible {
    case noneFound(directory: String)
    case incomplete(path: String)
    case corrupt(path: String, reason: String)
    case missing(path: String, available: [Int])

    public var description: String {
        switch self {
        case .noneFound(let directory):
            return "no complete checkpoint in \(directory); start without --resume, or pass --resume PATH to a checkpoint directory"
        case .incomplete(let path):
            return "\(path) is not a complete checkpoint (no COMPLETE marker: the write was interrupted); resume from an earlier one"
        case let .missing(path, available):
            return "there is no checkpoint \(path)" + (available.isEmpty ? "" : "; complete checkpoints there: steps \(available.map(String.init).joined(separator: ", "))")
        case let .corrupt(path, reason):
            return "checkpoint \(path) is corrupt: \(reason); resume from an earlier checkpoint (fluoro keeps the last few)"
        }
    }
}

/// One saved checkpoint on disk: `step-00001234/` holding `tensors.safetensors`, `state.json`
/// and, written last, `COMPLETE` (the sizes and XXH64 hashes of both files).
public struct Checkpoint {
    /// The checkpoint directory.
    public var directory: URL
    /// The optimisation step it was taken after.
    public var step: Int
    /// Parameters, optimizer moments and anything else tensor-shaped.
    public var tensors: SafetensorsFile
    /// The JSON state (step, RNGs, loader cursor, config...).
    public var state: Data
}

/// Writes checkpoints atomically into `<run>/checkpoints/`, keeps the last `keep`, and finds the
/// latest complete one. A crash at any moment — mid-write included — leaves the previous
/// complete checkpoint loadable: files go into a temporary directory, are fsynced, the directory
/// is renamed to `step-N`, and only then is the `COMPLETE` marker written (and fsynced).
public struct CheckpointStore {
    /// `<run>/checkpoints`.
    public let directory: URL
    /// Complete checkpoints kept (older ones are deleted after a successful write).
    public let keep: Int

    public init(runDirectory: URL, keep: Int = 3) {
        directory = runDirectory.appendingPathComponent("checkpoints")
        self.keep = max(1, keep)
    }

    static func name(step: Int) -> String { String(format: "step-%08d", step) }

    /// Writes a checkpoint for `step`, streaming the tensors from their memory to the file (no
    /// in-memory copy of it). On failure (e.g. a full disk) removes the partial write, keeps every
    /// earlier checkpoint and throws.
    @discardableResult
    public func save(step: Int, tensors: SafetensorsStream, state: Data) throws -> URL {
        try save(step: step, state: state) { sink in try tensors.write(to: sink) }
    }

    /// Writes a checkpoint for `step` from tensors encoded in memory (small files, tests).
    @discardableResult
    public func save(step: Int, tensors: SafetensorsWriter, state: Data) throws -> URL {
        let bytes = try tensors.encoded()
        return try save(step: step, state: state) { sink in try bytes.withUnsafeBytes { try sink($0) } }
    }

    /// The atomic write: the files go into a temporary directory (`writeFiles`), which is renamed
    /// to `step-N` (a complete checkpoint already there is moved aside until the new one is
    /// complete), and then the `COMPLETE` marker is written.
    func save(step: Int, state: Data, writeTensors: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws -> URL {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let final = directory.appendingPathComponent(Self.name(step: step))
        let tmp = directory.appendingPathComponent(".tmp-\(Self.name(step: step))-\(getpid())")
        let previous = directory.appendingPathComponent(".old-\(Self.name(step: step))-\(getpid())")
        try? FileManager.default.removeItem(at: tmp)
        do {
            let marker = try writeFiles(into: tmp, step: step, state: state, writeTensors: writeTensors)
            // A checkpoint already at this step (e.g. a run resumed from it reached it again) stays
            // complete until the new one is: move it aside and delete it only at the end.
            if FileManager.default.fileExists(atPath: final.path) {
                try? FileManager.default.removeItem(at: previous)
                try DurableFile.rename(final, to: previous)
            }
            try DurableFile.rename(tmp, to: final)
            try DurableFile.write(marker, to: final.appendingPathComponent("COMPLETE"))
            try? FileManager.default.removeItem(at: previous)
        } catch {
            try? FileManager.default.removeItem(at: tmp)
            if !FileManager.default.fileExists(atPath: final.appendingPathComponent("COMPLETE").path) {
                try? FileManager.default.removeItem(at: final)
                if FileManager.default.fileExists(atPath: previous.path) { try? DurableFile.rename(previous, to: final) }
            }
            throw error
        }
        prune()
        return final
    }

    /// Writes tensors.safetensors (streamed from `writeTensors`, sized and hashed on the way) and
    /// state.json into the new directory `tmp`, fsynced; returns the `COMPLETE` marker's bytes.
    func writeFiles(into tmp: URL, step: Int, state: Data, writeTensors: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws -> Data {
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: false)
        var hasher = XXHash64(), tensorBytes = 0
        try DurableFile.writeSynced(to: tmp.appendingPathComponent("tensors.safetensors")) { write in
            try withoutActuallyEscaping(write) { write in
                try writeTensors { piece in
                    hasher.update(piece)
                    tensorBytes += piece.count
                    try write(piece)
                }
            }
        }
        try DurableFile.writeSynced(state, to: tmp.appendingPathComponent("state.json"))
        try DurableFile.syncDirectory(tmp)
        let marker: [String: Any] = [
            "format": Self.markerFormat, "step": step,
            "tensors_bytes": tensorBytes, "tensors_xxh64": Self.hex(hasher.digest()),
            "state_bytes": state.count, "state_xxh64": Self.hex(XXHash64.hash(state)),
        ]
        return try JSONSerialization.data(withJSONObject: marker, options: [.sortedKeys])
    }

    /// Steps of the complete checkpoints, ascending.
    public func completeSteps() -> [Int] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.compactMap { name -> Int? in
            guard name.hasPrefix("step-"), let step = Int(name.dropFirst(5)) else { return nil }
            let marker = directory.appendingPathComponent(name).appendingPathComponent("COMPLETE")
            return FileManager.default.fileExists(atPath: marker.path) ? step : nil
        }.sorted()
    }

    /// Deletes complete checkpoints beyond the newest `keep`, and leftovers of interrupted writes.
    func prune() {
        let steps = completeSteps()
        for step in steps.dropLast(keep) {
            try? FileManager.default.removeItem(at: directory.appendingPathComponent(Self.name(step: step)))
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        for name in names where name.hasPrefix(".tmp-") || name.hasPrefix(".old-") {
            try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))
        }
    }

    /// Where a run starts: nil for a fresh run (refused when `run` already holds checkpoints), or
    /// with `resume` the latest checkpoint and its state.json decoded as `State` (`kind` names it
    /// in the error, e.g. "a fine-tuning state").
    public func startingPoint<State: Decodable>(resume: Bool, run: String, state: State.Type,
                                                kind: String) throws -> (state: State, checkpoint: Checkpoint)? {
        guard resume else {
            if let latest = completeSteps().last { throw TrainingError.runDirectoryInUse(run: run, latestStep: latest) }
            return nil
        }
        let checkpoint = try latest()
        do { return (try JSONDecoder().decode(State.self, from: checkpoint.state), checkpoint) } catch {
            throw CheckpointError.corrupt(path: checkpoint.directory.path, reason: "state.json is not \(kind) (\(error))")
        }
    }

    /// The newest complete checkpoint that verifies; a corrupt newest one is reported and skipped.
    public func latest() throws -> Checkpoint {
        var problems: [String] = []
        for step in completeSteps().reversed() {
            do { return try Self.load(directory.appendingPathComponent(Self.name(step: step))) } catch {
                problems.append("\(error)")
                Log.info("skipping checkpoint step \(step): \(error)")
            }
        }
        throw CheckpointError.noneFound(directory: directory.path + (problems.isEmpty ? "" : " (\(problems.count) corrupt)"))
    }

    /// Version of the `COMPLETE` marker's layout.
    static let markerFormat = 1

    static func hex(_ value: UInt64) -> String { String(format: "%016llx", value) }

    /// Loads and verifies the checkpoint in `path` (a `step-N` directory).
    public static func load(_ path: URL) throws -> Checkpoint {
        let markerURL = path.appendingPathComponent("COMPLETE")
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            let store = CheckpointStore(runDirectory: path.deletingLastPathComponent().deletingLastPathComponent())
            let steps = store.completeSteps()
            throw CheckpointError.missing(path: path.path, available: steps)
        }
        guard let markerData = try? Data(contentsOf: markerURL) else { throw CheckpointError.incomplete(path: path.path) }
        guard let marker = try? JSONSerialization.jsonObject(with: markerData) as? [String: Any],
              let step = marker["step"] as? Int,
              let tensorsHash = marker["tensors_xxh64"] as? String,
              let stateHash = marker["state_xxh64"] as? String else {
            throw CheckpointError.corrupt(path: path.path, reason: "unreadable COMPLETE marker (format \(markerFormat) expected; was it written by an older Fluoro?)")
        }
        let tensorURL = path.appendingPathComponent("tensors.safetensors")
        // Mapped, not read: the file's pages come from the page cache as they are hashed and copied.
        guard let tensorBytes = try? Data(contentsOf: tensorURL, options: .alwaysMapped), let state = try? Data(contentsOf: path.appendingPathComponent("state.json")) else {
            throw CheckpointError.corrupt(path: path.path, reason: "a file is missing")
        }
        guard hex(XXHash64.hash(tensorBytes)) == tensorsHash else {
            throw CheckpointError.corrupt(path: path.path, reason: "tensors.safetensors does not match its XXH64 hash")
        }
        guard hex(XXHash64.hash(state)) == stateHash else {
            throw CheckpointError.corrupt(path: path.path, reason: "state.json does not match its XXH64 hash")
        }
        return Checkpoint(directory: path, step: step, tensors: try SafetensorsFile(bytes: tensorBytes, path: tensorURL.path), state: state)
    }
}
