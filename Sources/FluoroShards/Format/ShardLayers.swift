import Foundation

/// Adds a layer (e.g. the weak-label pass's vesselness) to sequences of an existing dataset
/// without rewriting their frames: the new streams, a new index and a new footer are appended to
/// each shard, then the manifest is replaced. Bytes before the old committed end never change.
public enum ShardLayers {
    /// Adds `kind` to the sequences of the dataset in `directory` (all of them, or those in
    /// `sequences`, by dataset index). `producer(info, index)` returns the layer, [T, H, W] UInt8.
    ///
    /// Atomic per shard and resumable: a shard is committed when the manifest lists its new size;
    /// an interrupted pass leaves an uncommitted tail that readers ignore and the next pass cuts
    /// off. Sequences that already have the layer are skipped unless `replace` is true (a replaced
    /// layer's old streams stay in the file, unreferenced). Returns the new manifest.
    @discardableResult
    public static func add(_ kind: LayerKind, to directory: URL, sequences: Set<Int>? = nil, replace: Bool = false,
                           compressionLevel: Int32 = 0,
                           producer: (SequenceInfo, Int) throws -> Data) throws -> DatasetManifest {
        guard var manifest = try DatasetManifest.load(directory: directory) else {
            throw ShardError.manifestMissing(directory: directory.path)
        }
        var first = 0
        for (s, entry) in manifest.shards.enumerated() {
            defer { first += entry.sequenceCount }
            let url = directory.appendingPathComponent(entry.file)
            let file = try ShardFile(url: url, manifestBytes: entry.byteSize, firstSequence: first)
            var records = file.records
            let targets = records.indices.filter { local in
                (sequences?.contains(first + local) ?? true) && (replace || records[local].stream(.layer(kind)) == nil)
            }
            if targets.isEmpty { continue }
            let fd = open(url.path, O_RDWR | O_CLOEXEC)
            if fd < 0 { throw ShardError.io(file: url.path, operation: "open for writing", errno: errno) }
            defer { close(fd) }
            // Drop the uncommitted tail of an interrupted pass.
            if ftruncate(fd, off_t(entry.byteSize)) != 0 { throw ShardError.io(file: url.path, operation: "truncate", errno: errno) }
            let prefix = try ShardFile.hashPrefix(fd: fd, file: entry.file, length: entry.byteSize)
            if prefix.digest().hex16 != entry.xxh64 {
                throw ShardError.hashMismatch(file: entry.file, expected: entry.xxh64, actual: prefix.digest().hex16)
            }
            let writer = ShardStreamWriter(fd: fd, path: url.path, position: UInt64(entry.byteSize), hasher: prefix)
            writer.level = compressionLevel
            for local in targets {
                let info = records[local].info
                let data = try producer(info, first + local)
                let expected = info.frameCount * info.width * info.height
                if data.count != expected {
                    throw ShardError.layerSize(ShardPlace(file: entry.file, sequenceIndex: first + local, sequenceId: info.id,
                                                          stream: "layer \(kind.rawValue)"), expected: expected, got: data.count)
                }
                try writer.writeSequenceHeader(info: info, indexInShard: local, streams: [.layer(kind)])
                let table = try writer.writeFrames(.layer(kind), data, frameCount: info.frameCount,
                                                   frameBytes: info.width * info.height, filter: .none)
                records[local].streams.removeAll { $0.kind == .layer(kind) }
                // Keep the order pixels, layers (by kind), annotations.
                let at = records[local].streams.firstIndex { $0.kind == .annotations } ?? records[local].streams.count
                records[local].streams.insert(table, at: at)
            }
            try writer.writeIndexAndFooter(records, generation: file.footer.generation + 1)
            try writer.sync()
            manifest.shards[s].byteSize = Int(writer.position)
            manifest.shards[s].xxh64 = writer.fileHash.hex16
            manifest.shards[s].generation = Int(file.footer.generation) + 1
            manifest.shards[s].layers = Set(records.flatMap(\.layerKinds)).map(\.rawValue).sorted()
            try manifest.write(directory: directory)
        }
        return manifest
    }
}
