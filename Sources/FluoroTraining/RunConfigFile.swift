import FluoroShards
import Foundation

/// `<run>/config.json`: the run's settings (`TrainingSettings`' fields at the top level, so it
/// decodes as one) plus a `dataset` block saying what the loader could use — how many sequences,
/// and which were skipped as shorter than a clip — and, with validation, a `validation` block
/// (the held-out shards, how often and on how many clips).
enum RunConfigFile {
    /// Skipped sequences listed by id in the file (the count is always complete).
    static let listedSkips = 50

    /// Pretty, key-sorted JSON of `settings` and the dataset summary.
    static func encode(_ settings: TrainingSettings, sequences: Int, skipped: [SkippedSequence], validationShards: URL? = nil) throws -> Data {
        guard var object = try JSONSerialization.jsonObject(with: settings.encoded()) as? [String: Any] else {
            return try settings.encoded()
        }
        object["dataset"] = [
            "sequences": sequences,
            "trainable_sequences": sequences - skipped.count,
            "skipped_short_sequences": skipped.count,
            "clip_frames": settings.model.frames,
            "skipped": skipped.prefix(listedSkips).map { ["id": $0.id, "frames": $0.frameCount] as [String: Any] },
        ] as [String: Any]
        if let validationShards, let every = settings.validationEvery {
            object["validation"] = ["shards": validationShards.path, "every": every, "clips": settings.validationClips,
                                    "seed": ValidationSet.seed] as [String: Any]
        }
        return try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
    }
}
