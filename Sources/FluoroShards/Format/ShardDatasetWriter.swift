import FluoroSupport
import Foundation

/// Packs sequences into shards of a dataset directory. Creates the dataset, or opens an existing
/// one and appends new shards after its last. A shard is written under a hidden temporary name
/// (`.shard-000003.flsh.partial`), fsynced and renamed when sealed, and the manifest is then
/// replaced atomically: a crash at any point leaves only sealed shards listed in a valid manifest.
/// One writer per directory at a time.
public final class ShardDatasetWriter {
    public let directory: URL
    /// A shard is sealed once it reaches about this many bytes (a sequence is never split, so a
    /// single sequence larger than this gets a shard of its own).
    public let targetShardBytes: Int
    /// LZ4 level: 0 (fast, the default) or 3...12 (LZ4-HC: smaller, slower to write, as fast to read).
    public var compressionLevel: Int32 = 0
    /// Store 16-bit pixels as byte planes (`PixelFilter.shuffle16`); on by default.
    public var shuffle16 = true

    /// The manifest as of the last sealed shard.
    public private(set) var manifest: DatasetManifest
    private var nextNumber: Int
    private var current: OpenShard?

    /// The shard being written.
    private struct OpenShard {
        var name: String
        var temporary: URL
        var writer: ShardStreamWriter
        var records: [SequenceRecord] = []
        var frames = 0
        var pixelBytes = 0
        var storedPixelBytes = 0
    }

    /// Creates a dataset in `directory` (made if missing), or opens an existing one to append.
    public init(directory: URL, targetShardBytes: Int = 256 << 20) throws {
        self.directory = directory
        self.targetShardBytes = max(targetShardBytes, 1)
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw ShardError.fileSystem(file: directory.path, reason: "cannot create the dataset directory (\(error.localizedDescription))")
        }
        manifest = try DatasetManifest.load(directory: directory) ?? DatasetManifest()
        // Partial shards of an interrupted writer were never listed: remove them.
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        for name in names where name.hasPrefix(".shard-") && name.hasSuffix(".partial") {
            try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))
        }
        let numbers = manifest.shards.compactMap { Self.number(of: $0.file) }
        nextNumber = (numbers.max() ?? -1) + 1
    }

    deinit {
        // Never finished: the partial shard was not committed; drop it.
        if let current {
            close(current.writer.fd)
            try? FileManager.default.removeItem(at: current.temporary)
        }
    }

    /// `shard-000012.flsh` → 12.
    static func number(of file: String) -> Int? {
        guard file.hasPrefix("shard-"), file.hasSuffix("." + ShardLayout.fileExtension) else { return nil }
        return Int(file.dropFirst(6).dropLast(ShardLayout.fileExtension.count + 1))
    }

    /// Adds one sequence (checked with `validationProblem()`), sealing the open shard first when
    /// this sequence would take it past the target size.
    public func append(_ sequence: FrameSequence) throws {
        if let problem = sequence.validationProblem() { throw ShardError.invalidSequence(problem) }
        let info = sequence.info
        guard info.frameBytes <= Int(UInt32.max), info.width <= 1 << 16, info.height <= 1 << 16 else {
            throw ShardError.invalidSequence("sequence \(info.id): frames of \(info.width)x\(info.height) are too large")
        }
        guard info.bitsStored >= 1, info.bitsStored <= 8 * info.pixelFormat.bytesPerPixel else {
            throw ShardError.invalidSequence("sequence \(info.id): bitsStored \(info.bitsStored) does not fit \(info.pixelFormat.rawValue)")
        }
        if let open = current, !open.records.isEmpty {
            // Expected stored size of this sequence at the open shard's compression ratio so far.
            let ratio = open.pixelBytes > 0 ? Double(open.storedPixelBytes) / Double(open.pixelBytes) : 1
            let estimate = Int(Double(sequence.pixels.count + sequence.layers.values.reduce(0) { $0 + $1.count }) * ratio)
            if Int(open.writer.position) + estimate > targetShardBytes { try seal() }
        }
        if current == nil { try startShard() }
        guard var open = current else { return }
        let layerKinds = LayerKind.allCases.filter { sequence.layers[$0] != nil }
        let kinds: [StreamKind] = [.pixels] + layerKinds.map { .layer($0) } + (sequence.annotations.isEmpty ? [] : [.annotations])
        let w = open.writer
        try w.writeSequenceHeader(info: info, indexInShard: open.records.count, streams: kinds)
        let filter: PixelFilter = info.pixelFormat == .uint16 && shuffle16 ? .shuffle16 : .none
        var tables = [try w.writeFrames(.pixels, sequence.pixels, frameCount: info.frameCount, frameBytes: info.frameBytes, filter: filter)]
        for kind in layerKinds {
            tables.append(try w.writeFrames(.layer(kind), sequence.layers[kind]!, frameCount: info.frameCount,
                                            frameBytes: info.width * info.height, filter: .none))
        }
        if !sequence.annotations.isEmpty { tables.append(try w.writeAnnotations(sequence.annotations)) }
        open.records.append(SequenceRecord(info: info, streams: tables))
        open.frames += info.frameCount
        open.pixelBytes += tables[0].rawBytes
        open.storedPixelBytes += tables[0].compressedBytes
        current = open
        if Int(w.position) >= targetShardBytes { try seal() }
    }

    /// Seals the open shard (if any) and writes the manifest; returns it.
    @discardableResult public func finish() throws -> DatasetManifest {
        if current != nil { try seal() }
        try manifest.write(directory: directory)
        return manifest
    }

    private func startShard() throws {
        let name = String(format: "shard-%06d.%@", nextNumber, ShardLayout.fileExtension)
        nextNumber += 1
        let temporary = directory.appendingPathComponent(".\(name).partial")
        let fd = open(temporary.path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 { throw ShardError.io(file: temporary.path, operation: "create", errno: errno) }
        let writer = ShardStreamWriter(fd: fd, path: temporary.path, position: 0, hasher: XXHash64())
        writer.level = compressionLevel
        current = OpenShard(name: name, temporary: temporary, writer: writer)
        try writer.write(ShardLayout.header())
    }

    /// Index + footer, fsync, rename into place, then the manifest.
    private func seal() throws {
        guard let open = current else { return }
        current = nil
        let w = open.writer
        defer { close(w.fd) }
        try w.writeIndexAndFooter(open.records, generation: 0)
        try w.sync()
        try AtomicFile.rename(open.temporary, to: directory.appendingPathComponent(open.name))
        let layers = Set(open.records.flatMap(\.layerKinds)).map(\.rawValue).sorted()
        manifest.shards.append(DatasetManifest.Shard(
            file: open.name, sequenceCount: open.records.count, frameCount: open.frames,
            byteSize: Int(w.position), xxh64: w.fileHash.hex16, pixelBytes: open.pixelBytes,
            storedPixelBytes: open.storedPixelBytes, layers: layers, generation: 0))
        manifest.recount()
        try manifest.write(directory: directory)
    }
}
