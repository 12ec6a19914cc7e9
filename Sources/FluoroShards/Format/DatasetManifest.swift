import FluoroSupport
import Foundation

/// The dataset's table of contents, `manifest.json`: the shards (in order) with their sequence
/// and frame counts, committed byte sizes and XXH64 hashes. Replaced atomically (write a temporary
/// file, fsync, rename), so readers always see a consistent set of sealed shards.
public struct DatasetManifest: Codable, Equatable, Sendable {
    public static let fileName = "manifest.json"
    public static let currentFormatVersion = 1

    /// One sealed shard.
    public struct Shard: Codable, Equatable, Sendable {
        /// File name inside the dataset directory (`shard-000000.flsh`).
        public var file: String
        public var sequenceCount: Int
        public var frameCount: Int
        /// Committed bytes: the shard ends (footer included) at this size; any bytes after it are
        /// an uncommitted tail of an interrupted layer pass and are ignored.
        public var byteSize: Int
        /// XXH64 of the first `byteSize` bytes, 16 lowercase hex digits.
        public var xxh64: String
        /// Uncompressed and stored bytes of the pixel streams (their ratio is the compression ratio).
        public var pixelBytes: Int
        public var storedPixelBytes: Int
        /// Layers present in at least one sequence of the shard.
        public var layers: [String]
        /// 0 when written; +1 for each layer pass that appended to it.
        public var generation: Int
    }

    /// Always "fluoro-shards".
    public var format: String
    public var formatVersion: Int
    public var shards: [Shard]
    /// Totals over `shards`.
    public var sequenceCount: Int
    public var frameCount: Int

    public init(shards: [Shard] = []) {
        format = "fluoro-shards"
        formatVersion = Self.currentFormatVersion
        self.shards = shards
        sequenceCount = 0
        frameCount = 0
        recount()
    }

    /// Recomputes the totals from the shards.
    public mutating func recount() {
        sequenceCount = shards.reduce(0) { $0 + $1.sequenceCount }
        frameCount = shards.reduce(0) { $0 + $1.frameCount }
    }

    /// Reads `directory/manifest.json`; nil when there is none.
    public static func load(directory: URL) throws -> DatasetManifest? {
        let url = directory.appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ShardError.manifestInvalid(file: url.path, reason: "cannot read (\(error.localizedDescription))")
        }
        let manifest: DatasetManifest
        do { manifest = try JSONDecoder().decode(DatasetManifest.self, from: data) } catch {
            throw ShardError.manifestInvalid(file: url.path, reason: "JSON does not parse (\(error))")
        }
        if manifest.format != "fluoro-shards" { throw ShardError.manifestInvalid(file: url.path, reason: "format is \"\(manifest.format)\"") }
        if manifest.formatVersion > currentFormatVersion {
            throw ShardError.manifestInvalid(file: url.path, reason: "format version \(manifest.formatVersion) is newer than this build's \(currentFormatVersion): upgrade fluoro")
        }
        for shard in manifest.shards {
            let name = shard.file
            if name.isEmpty || name.contains("/") || name.hasPrefix(".") || shard.sequenceCount < 0 || shard.frameCount < 0 || shard.byteSize < 0 {
                throw ShardError.manifestInvalid(file: url.path, reason: "bad shard entry \"\(name)\"")
            }
        }
        if Set(manifest.shards.map(\.file)).count != manifest.shards.count {
            throw ShardError.manifestInvalid(file: url.path, reason: "a shard is listed twice")
        }
        return manifest
    }

    /// Writes `directory/manifest.json` atomically.
    public func write(directory: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(self), to: directory.appendingPathComponent(Self.fileName))
    }
}

/// Crash-safe file replacement: temporary file, fsync, rename, fsync of the directory.
enum AtomicFile {
    static func write(_ data: Data, to url: URL) throws {
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp")
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 { throw ShardError.io(file: temporary.path, operation: "create", errno: errno) }
        let writer = ShardStreamWriter(fd: fd, path: temporary.path, position: 0, hasher: XXHash64())
        do {
            try writer.write(data)
            try writer.sync()
        } catch {
            close(fd)
            throw error
        }
        close(fd)
        try rename(temporary, to: url)
    }

    /// Renames `from` over `to` and makes the rename durable.
    static func rename(_ from: URL, to: URL) throws {
        if Foundation.rename(from.path, to.path) != 0 { throw ShardError.io(file: to.path, operation: "rename onto", errno: errno) }
        syncDirectory(to.deletingLastPathComponent())
    }

    static func syncDirectory(_ directory: URL) {
        let fd = open(directory.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }
}

extension UInt64 {
    /// 16 lowercase hex digits.
    var hex16: String {
        let s = String(self, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}
