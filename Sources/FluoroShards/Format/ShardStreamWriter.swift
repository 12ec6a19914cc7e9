import FluoroSupport
import Foundation

/// Appends streams to a shard file at a position, hashing every byte it writes (XXH64 of the file
/// so far, when started from a hash of the existing prefix). Used by the dataset writer (new
/// shards) and by `ShardLayers` (layers appended to sealed shards).
final class ShardStreamWriter {
    let fd: Int32
    let path: String
    private(set) var position: UInt64
    private var hasher: XXHash64
    /// LZ4 level: 0 fast, 3...12 HC.
    var level: Int32 = 0

    init(fd: Int32, path: String, position: UInt64, hasher: XXHash64) {
        self.fd = fd
        self.path = path
        self.position = position
        self.hasher = hasher
    }

    var fileHash: UInt64 { hasher.digest() }

    /// Writes bytes at the current position.
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(position) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw ShardError.io(file: path, operation: "write", errno: errno)
            }
            done += n
        }
        hasher.update(bytes)
        position += UInt64(bytes.count)
    }

    func write(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try write($0) } }
    func write(_ data: Data) throws { try data.withUnsafeBytes { try write($0) } }

    /// Writes a sequence header announcing the streams that follow it (see FORMAT.md).
    func writeSequenceHeader(info: SequenceInfo, indexInShard: Int, streams: [StreamKind]) throws {
        try write(SequenceHeader.encode(info: info, indexInShard: indexInShard, streams: streams))
    }

    /// Compresses `data` ([frames, frameBytes]) as one LZ4 frame per video frame (in parallel),
    /// applying `filter` first, and writes them back to back. Frames go in batches of a few per
    /// core into two sets of output buffers reused from batch to batch: while a batch is
    /// compressed, one more task writes the previous batch (in order), so the writes overlap the
    /// compression. Allocating every frame's worst-case output (and filter scratch) afresh faulted
    /// in new pages for all of them, about a twentieth of `pack`'s CPU on the shared runs; writing
    /// after each batch left the other cores idle meanwhile. The bytes written are the same.
    func writeFrames(_ kind: StreamKind, _ data: Data, frameCount: Int, frameBytes: Int, filter: PixelFilter) throws -> StreamTable {
        let level = self.level
        let bound = LZ4Frame.compressBound(frameBytes, level: level)
        let batch = max(1, min(frameCount, 4 * ProcessInfo.processInfo.activeProcessorCount))
        let scratchBytes = filter == .none ? 0 : frameBytes
        let outputs = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, 2 * batch * bound), alignment: 64)  // [2][batch][bound]
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, batch * scratchBytes), alignment: 64)
        let sizes = UnsafeMutableBufferPointer<Int>.allocate(capacity: 2 * batch)
        defer {
            outputs.deallocate()
            scratch.deallocate()
            sizes.deallocate()
        }
        var entries: [StreamEntry] = []
        entries.reserveCapacity(frameCount)
        var failure: Error?
        let lock = NSLock()
        /// Writes `count` compressed frames of buffer set `set` in order.
        func flush(set: Int, count: Int) throws {
            for j in 0..<count {
                let start = (set * batch + j) * bound, size = sizes[set * batch + j]
                entries.append(StreamEntry(offset: position, length: UInt32(size), rawLength: UInt32(frameBytes)))
                try write(UnsafeRawBufferPointer(rebasing: outputs[start..<(start + size)]))
            }
        }
        var pending: (set: Int, count: Int)?
        try data.withUnsafeBytes { all in
            for (index, first) in stride(from: 0, to: frameCount, by: batch).enumerated() {
                let count = min(batch, frameCount - first), set = index % 2
                let previous = pending
                DispatchQueue.concurrentPerform(iterations: count + (previous == nil ? 0 : 1)) { j in
                    do {
                        if j == count, let previous {
                            try flush(set: previous.set, count: previous.count)
                            return
                        }
                        let t = first + j, slot = set * batch + j
                        sizes[slot] = try Self.compress(UnsafeRawBufferPointer(rebasing: all[(t * frameBytes)..<((t + 1) * frameBytes)]),
                                                        into: UnsafeMutableRawBufferPointer(rebasing: outputs[(slot * bound)..<((slot + 1) * bound)]),
                                                        filter: filter, scratch: UnsafeMutableRawBufferPointer(rebasing: scratch[(j * scratchBytes)..<((j + 1) * scratchBytes)]),
                                                        level: level)
                    } catch {
                        lock.lock(); failure = error; lock.unlock()
                    }
                }
                if let failure { throw failure }
                pending = (set, count)
            }
        }
        if let pending { try flush(set: pending.set, count: pending.count) }
        return StreamTable(kind: kind, filter: filter, entries: entries)
    }

    /// One frame as one LZ4 frame in `output` (its size returned), through `filter` into `scratch`
    /// first unless the filter is `.none`.
    static func compress(_ frame: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer, filter: PixelFilter,
                         scratch: UnsafeMutableRawBufferPointer, level: Int32) throws -> Int {
        guard filter != .none else { return try LZ4Frame.compress(frame, into: output, level: level) }
        PixelFilter.apply(filter, frame, into: scratch)
        return try LZ4Frame.compress(UnsafeRawBufferPointer(scratch), into: output, level: level)
    }

    /// Writes the annotations (JSON array, one object per frame) as one LZ4 frame.
    func writeAnnotations(_ annotations: [FrameAnnotation]) throws -> StreamTable {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = try encoder.encode(annotations)
        let frame = try LZ4Frame.compress(json, level: level)
        let entry = StreamEntry(offset: position, length: UInt32(frame.count), rawLength: UInt32(json.count))
        try write(frame)
        return StreamTable(kind: .annotations, filter: .none, entries: [entry])
    }

    /// Writes the index and the footer: after this, the file's committed end is `position`.
    func writeIndexAndFooter(_ records: [SequenceRecord], generation: UInt32) throws {
        let index = try ShardIndex.encode(records)
        let footer = ShardLayout.Footer(indexOffset: position, indexLength: UInt64(index.count),
                                        indexHash: XXHash64.hash(Data(index)), generation: generation)
        try write(index)
        try write(footer.encoded())
    }

    /// Flushes the file to disk.
    func sync() throws {
        if fsync(fd) != 0 { throw ShardError.io(file: path, operation: "fsync", errno: errno) }
    }
}

/// The header written before each sequence's streams, so a shard whose index is lost can still be
/// walked (`ShardScanner`): "FLSQ", u32 index in shard, u32 JSON length, JSON, u64 XXH64.
enum SequenceHeader {
    static let magic = Array("FLSQ".utf8)

    struct Content: Codable {
        var info: SequenceInfo
        /// Streams that follow, in order: "pixels", "layer vesselness", "annotations", ...
        var streams: [String]
    }

    static func encode(info: SequenceInfo, indexInShard: Int, streams: [StreamKind]) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = Array(try encoder.encode(Content(info: info, streams: streams.map(\.description))))
        var w = ByteWriter()
        w.bytes(magic)
        w.u32(UInt32(indexInShard))
        w.u32(UInt32(json.count))
        w.bytes(json)
        w.u64(XXHash64.hash(Data(w.buffer)))
        return w.buffer
    }

    /// Parses the streams' names back into kinds (unknown names are dropped).
    static func kinds(_ names: [String]) -> [StreamKind] {
        names.compactMap { name in
            if name == "pixels" { return .pixels }
            if name == "annotations" { return .annotations }
            if name.hasPrefix("layer "), let k = LayerKind(rawValue: String(name.dropFirst(6))) { return .layer(k) }
            return nil
        }
    }
}
