import Foundation

/// Stored and decoded sizes of one stream of a sequence.
public struct StreamStorage: Sendable, Equatable, Codable {
    /// "pixels", "layer vesselness", "annotations", ...
    public var stream: String
    /// "none" or "shuffle16".
    public var filter: String
    public var storedBytes: Int
    public var rawBytes: Int
}

/// A shard dataset opened for reading: O(1) access to any sequence and any frame range, decoding
/// only what is asked for. Thread-safe (`pread` on file descriptors, no shared mutable state).
public final class ShardDataset: ClipSource, @unchecked Sendable {
    public let directory: URL
    /// The manifest the dataset was opened with (later changes are not seen).
    public let manifest: DatasetManifest
    let files: [ShardFile]
    /// Dataset sequence index → (shard, index in shard).
    private let locations: [(shard: Int, local: Int)]

    /// Opens the dataset in `directory` as its manifest lists it. Checks every shard's header,
    /// footer and index (not the stream contents: `ShardVerifier` does that).
    public convenience init(directory: URL) throws {
        guard let manifest = try DatasetManifest.load(directory: directory) else {
            throw ShardError.manifestMissing(directory: directory.path)
        }
        try self.init(directory: directory, manifest: manifest)
    }

    /// Opens one shard file on its own (for `fluoro inspect`/`verify` of a single file).
    public convenience init(shardFile url: URL) throws {
        let file = try ShardFile(url: url)
        let records = file.records
        let shard = DatasetManifest.Shard(
            file: file.name, sequenceCount: records.count, frameCount: records.reduce(0) { $0 + $1.info.frameCount },
            byteSize: file.committedBytes, xxh64: "", pixelBytes: records.reduce(0) { $0 + ($1.stream(.pixels)?.rawBytes ?? 0) },
            storedPixelBytes: records.reduce(0) { $0 + ($1.stream(.pixels)?.compressedBytes ?? 0) },
            layers: Set(records.flatMap(\.layerKinds)).map(\.rawValue).sorted(), generation: Int(file.footer.generation))
        try self.init(directory: url.deletingLastPathComponent(), manifest: DatasetManifest(shards: [shard]), opened: [file])
    }

    init(directory: URL, manifest: DatasetManifest, opened: [ShardFile]? = nil) throws {
        self.directory = directory
        self.manifest = manifest
        var files: [ShardFile] = []
        var locations: [(shard: Int, local: Int)] = []
        for (s, entry) in manifest.shards.enumerated() {
            let file = try opened?[s] ?? ShardFile(url: directory.appendingPathComponent(entry.file),
                                                  manifestBytes: entry.byteSize, firstSequence: locations.count)
            if file.records.count != entry.sequenceCount {
                throw ShardError.manifestInvalid(file: directory.appendingPathComponent(DatasetManifest.fileName).path,
                    reason: "shard \(entry.file) holds \(file.records.count) sequences, the manifest says \(entry.sequenceCount)")
            }
            files.append(file)
            locations += (0..<file.records.count).map { (shard: s, local: $0) }
        }
        self.files = files
        self.locations = locations
    }

    public var sequenceCount: Int { locations.count }

    private func record(_ index: Int) throws -> (file: ShardFile, local: Int) {
        guard index >= 0, index < locations.count else {
            throw ShardError.outOfRange("sequence \(index) does not exist: the dataset in \(directory.path) has \(locations.count)")
        }
        let l = locations[index]
        return (files[l.shard], l.local)
    }

    /// The description of sequence `index` (which must exist).
    public func info(sequence index: Int) -> SequenceInfo {
        let l = locations[index]
        return files[l.shard].records[l.local].info
    }

    /// The shard file and the position in it of sequence `index`, for messages.
    public func location(of sequence: Int) -> (shard: String, indexInShard: Int) {
        let l = locations[sequence]
        return (files[l.shard].name, l.local)
    }

    /// The layers sequence `index` carries.
    public func layerKinds(sequence index: Int) -> [LayerKind] {
        let l = locations[index]
        return files[l.shard].records[l.local].layerKinds
    }

    /// Stored and raw sizes of every stream of sequence `index`.
    public func storage(sequence index: Int) -> [StreamStorage] {
        let l = locations[index]
        return files[l.shard].records[l.local].streams.map {
            StreamStorage(stream: $0.kind.description, filter: $0.filter == .none ? "none" : "shuffle16",
                          storedBytes: $0.compressedBytes, rawBytes: $0.rawBytes)
        }
    }

    private func check(_ range: Range<Int>, _ index: Int, _ file: ShardFile, _ local: Int) throws {
        let count = file.records[local].info.frameCount
        guard range.lowerBound >= 0, range.upperBound <= count else {
            throw ShardError.outOfRange("frames \(range) of sequence \(index) (id \(file.records[local].info.id)) do not exist: it has \(count)")
        }
    }

    /// Decodes frames `range` of a sequence straight into `output` ([range.count, H, W] as stored,
    /// exactly `range.count * frameBytes` bytes). No intermediate copies of the pixels.
    public func frames(sequence index: Int, range: Range<Int>, into output: UnsafeMutableRawBufferPointer) throws {
        let (file, local) = try record(index)
        try check(range, index, file, local)
        guard let table = file.records[local].stream(.pixels) else { return }
        try file.decode(local, sequence: index, table: table, range: range, into: output)
    }

    /// Frames `range` of a sequence: [range.count, H, W] as stored (UInt8, or UInt16 little endian).
    public func frames(sequence index: Int, range: Range<Int>) throws -> Data {
        let (file, local) = try record(index)
        try check(range, index, file, local)
        var data = Data(count: range.count * file.records[local].info.frameBytes)
        try data.withUnsafeMutableBytes { try frames(sequence: index, range: range, into: $0) }
        return data
    }

    /// A layer's frames `range` ([range.count, H, W] UInt8), or nil when the sequence lacks it.
    public func layer(_ kind: LayerKind, sequence index: Int, range: Range<Int>) throws -> Data? {
        let (file, local) = try record(index)
        try check(range, index, file, local)
        guard let table = file.records[local].stream(.layer(kind)) else { return nil }
        let info = file.records[local].info
        var data = Data(count: range.count * info.width * info.height)
        try data.withUnsafeMutableBytes { try file.decode(local, sequence: index, table: table, range: range, into: $0) }
        return data
    }

    /// Decodes a layer's frames `range` straight into `output` ([range.count, H, W] UInt8); returns
    /// false (leaving `output` untouched) when the sequence lacks the layer.
    @discardableResult
    public func layer(_ kind: LayerKind, sequence index: Int, range: Range<Int>, into output: UnsafeMutableRawBufferPointer) throws -> Bool {
        let (file, local) = try record(index)
        try check(range, index, file, local)
        guard let table = file.records[local].stream(.layer(kind)) else { return false }
        try file.decode(local, sequence: index, table: table, range: range, into: output)
        return true
    }

    /// Per-frame landmarks of a sequence ([] when it has none).
    public func annotations(sequence index: Int) throws -> [FrameAnnotation] {
        let (file, local) = try record(index)
        return try file.annotations(local, sequence: index)
    }

    /// Everything stored for sequence `index`.
    public func sequence(_ index: Int) throws -> FrameSequence {
        let (file, local) = try record(index)
        let info = file.records[local].info
        var layers: [LayerKind: Data] = [:]
        for kind in file.records[local].layerKinds {
            layers[kind] = try layer(kind, sequence: index, range: 0..<info.frameCount)
        }
        return FrameSequence(info: info, pixels: try frames(sequence: index, range: 0..<info.frameCount),
                             layers: layers, annotations: try annotations(sequence: index))
    }
}
