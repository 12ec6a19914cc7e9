import FluoroSupport
import Foundation

/// One open shard file: its footer and parsed index, read with `pread` (thread-safe, no shared
/// offset). Every offset from disk is bounds-checked before use.
final class ShardFile: @unchecked Sendable {
    let url: URL
    /// The file name, for messages.
    let name: String
    let fd: Int32
    /// Bytes that belong to the shard (the manifest's byte size, or the file size).
    let committedBytes: Int
    let footer: ShardLayout.Footer
    let records: [SequenceRecord]

    /// Opens a shard. `committedBytes` is the manifest's size (bytes after it are an uncommitted
    /// tail of an interrupted layer pass, ignored); nil takes the file size.
    /// `firstSequence` is the dataset index of the shard's first sequence, for messages.
    init(url: URL, manifestBytes: Int? = nil, firstSequence: Int = 0) throws {
        self.url = url
        name = url.lastPathComponent
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { throw ShardError.shardMissing(file: url.lastPathComponent) }
            throw ShardError.io(file: url.path, operation: "open", errno: errno)
        }
        self.fd = fd
        do {
            var st = stat()
            if fstat(fd, &st) != 0 { throw ShardError.io(file: url.path, operation: "stat", errno: errno) }
            let size = Int(st.st_size)
            let committed = manifestBytes ?? size
            committedBytes = committed
            let minimum = ShardLayout.headerSize + ShardLayout.footerSize
            if size < committed || committed < minimum {
                throw ShardScanner.truncationError(fd: fd, file: name, size: size, expected: max(committed, minimum),
                                                   firstSequence: firstSequence)
            }
            let header = try Self.read(fd: fd, file: name, offset: 0, count: ShardLayout.headerSize)
            if let problem = ShardLayout.headerProblem(header) {
                throw ShardError.corruptStructure(ShardPlace(file: name, stream: "header"), reason: problem)
            }
            let footerBytes = try Self.read(fd: fd, file: name, offset: committed - ShardLayout.footerSize, count: ShardLayout.footerSize)
            let footer: ShardLayout.Footer
            do { footer = try ShardLayout.Footer.decode(footerBytes) } catch let p as LayoutProblem {
                if manifestBytes == nil, Array(footerBytes[32..<40]) != ShardLayout.footerMagic {
                    // A lone shard without its footer: most likely cut short. Say where.
                    throw ShardScanner.truncationError(fd: fd, file: name, size: size, expected: nil, firstSequence: firstSequence)
                }
                throw ShardError.corruptStructure(ShardPlace(file: name, stream: "footer"), reason: p.description)
            }
            self.footer = footer
            let indexEnd = UInt64(committed - ShardLayout.footerSize)
            guard footer.indexOffset >= UInt64(ShardLayout.headerSize), footer.indexLength <= indexEnd,
                  footer.indexOffset == indexEnd - footer.indexLength else {
                throw ShardError.corruptStructure(ShardPlace(file: name, stream: "footer"),
                    reason: "index at \(footer.indexOffset)+\(footer.indexLength) does not end at the footer (\(indexEnd))")
            }
            let index = try Self.read(fd: fd, file: name, offset: Int(footer.indexOffset), count: Int(footer.indexLength))
            if XXHash64.hash(Data(index)) != footer.indexHash {
                throw ShardError.corruptStructure(ShardPlace(file: name, stream: "index"), reason: "index checksum mismatch")
            }
            do {
                records = try ShardIndex.decode(index, streamRegion: UInt64(ShardLayout.headerSize)..<footer.indexOffset)
            } catch let p as LayoutProblem {
                throw ShardError.corruptStructure(ShardPlace(file: name, stream: "index"), reason: p.description)
            }
        } catch {
            close(fd)
            throw error
        }
    }

    deinit { close(fd) }

    /// Reads exactly `count` bytes at `offset` into `buffer`; a short read means the file was cut.
    static func read(fd: Int32, file: String, offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws {
        var done = 0
        while done < buffer.count {
            let n = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw ShardError.io(file: file, operation: "read", errno: errno)
            }
            if n == 0 { throw ShardError.shardTruncated(file: file, expectedBytes: offset + buffer.count, actualBytes: offset + done) }
            done += n
        }
    }

    static func read(fd: Int32, file: String, offset: Int, count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        try bytes.withUnsafeMutableBytes { try read(fd: fd, file: file, offset: offset, into: $0) }
        return bytes
    }

    /// The place of a stream, for messages; `sequence` is the dataset index.
    func place(_ local: Int, sequence: Int, _ stream: String) -> ShardPlace {
        ShardPlace(file: name, sequenceIndex: sequence, sequenceId: records[local].info.id, stream: stream)
    }

    /// Decodes entries `range` of a stream straight into `output` (exactly their raw size): the
    /// compressed bytes are read with `pread` in spans of up to 4 MiB (contiguous frames in one
    /// read) into a pooled buffer, and LZ4 decodes into the caller's buffer (via a one-frame
    /// scratch only when a pixel filter must be undone). `sequence` is the dataset index, for messages.
    func decode(_ local: Int, sequence: Int, table: StreamTable, range: Range<Int>, into output: UnsafeMutableRawBufferPointer,
                span: Int = 4 << 20) throws {
        let entries = table.entries
        let rawTotal = entries[range].reduce(0) { $0 + Int($1.rawLength) }
        guard output.count == rawTotal else { throw ShardError.bufferSize(expected: rawTotal, got: output.count) }
        // Entries were bounds-checked against the stream region when the index was parsed.
        let label = table.kind == .pixels ? "pixels" : table.kind.description
        let biggest = entries[range].reduce(0) { max($0, Int($1.length)) }
        let source = ScratchPool.shared.take(max(span, biggest))
        let limit = max(span, biggest)
        defer { ScratchPool.shared.give(source) }
        var scratch: UnsafeMutableRawBufferPointer?
        defer { if let scratch { ScratchPool.shared.give(scratch) } }
        let decoder = try LZ4FrameDecoder()
        var k = range.lowerBound, dst = 0
        while k < range.upperBound {
            // Frames k..<g: contiguous in the file and together within the span (at least one).
            var g = k + 1, total = Int(entries[k].length)
            while g < range.upperBound, entries[g].offset == entries[g - 1].offset + UInt64(entries[g - 1].length),
                  total + Int(entries[g].length) <= limit {
                total += Int(entries[g].length)
                g += 1
            }
            do {
                try Self.read(fd: fd, file: name, offset: Int(entries[k].offset), into: UnsafeMutableRawBufferPointer(rebasing: source[0..<total]))
            } catch ShardError.shardTruncated(_, let expected, let actual) {
                // The file shrank after it was opened.
                throw ShardError.cut(place(local, sequence: sequence, "\(label) frame \(k)"), actualBytes: actual, expectedBytes: expected)
            }
            var src = 0
            for f in k..<g {
                let e = entries[f]
                let input = UnsafeRawBufferPointer(rebasing: source[src..<(src + Int(e.length))])
                let out = UnsafeMutableRawBufferPointer(rebasing: output[dst..<(dst + Int(e.rawLength))])
                do {
                    if table.filter == .none {
                        try decoder.decompress(input, into: out)
                    } else {
                        if scratch == nil { scratch = ScratchPool.shared.take(Int(e.rawLength)) }
                        let s = UnsafeMutableRawBufferPointer(rebasing: scratch![0..<Int(e.rawLength)])
                        try decoder.decompress(input, into: s)
                        PixelFilter.invert(table.filter, UnsafeRawBufferPointer(s), into: out)
                    }
                } catch let error as LZ4FrameError {
                    let stream = table.kind == .annotations ? label : "\(label) frame \(f)"
                    throw ShardError.corruptStream(place(local, sequence: sequence, stream), reason: error.description)
                }
                src += Int(e.length)
                dst += Int(e.rawLength)
            }
            k = g
        }
    }

    /// The annotations of a sequence ([] when it has none).
    func annotations(_ local: Int, sequence: Int) throws -> [FrameAnnotation] {
        guard let table = records[local].stream(.annotations) else { return [] }
        // A landmark record is well under 1 KiB of JSON; a larger claim is a corrupt index, not a buffer to allocate.
        let limit = 1024 * max(1, records[local].info.frameCount) + 4096
        guard let entry = table.entries.first, Int(entry.rawLength) <= limit else {
            throw ShardError.corruptStream(place(local, sequence: sequence, "annotations"),
                                           reason: "the index claims \(table.entries.first.map { Int($0.rawLength) } ?? 0) bytes of annotations (at most \(limit) expected)")
        }
        var json = Data(count: Int(entry.rawLength))
        try json.withUnsafeMutableBytes { try decode(local, sequence: sequence, table: table, range: 0..<1, into: $0) }
        let list: [FrameAnnotation]
        do { list = try JSONDecoder().decode([FrameAnnotation].self, from: json) } catch {
            throw ShardError.corruptStream(place(local, sequence: sequence, "annotations"), reason: "JSON does not parse (\(error))")
        }
        if list.count != records[local].info.frameCount {
            throw ShardError.corruptStream(place(local, sequence: sequence, "annotations"),
                                           reason: "\(list.count) annotations for \(records[local].info.frameCount) frames")
        }
        return list
    }

    /// XXH64 of the file's first `length` bytes, read in 4 MiB pieces.
    static func hashPrefix(fd: Int32, file: String, length: Int) throws -> XXHash64 {
        var hasher = XXHash64()
        let chunk = 4 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 64)
        defer { buffer.deallocate() }
        var at = 0
        while at < length {
            let n = min(chunk, length - at)
            let piece = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<n])
            try read(fd: fd, file: file, offset: at, into: piece)
            hasher.update(UnsafeRawBufferPointer(piece))
            at += n
        }
        return hasher
    }
}
