import Foundation

/// Walks a shard from its first stream without the index (sequence headers and LZ4 frame
/// headers), to say where a truncated shard was cut: which sequence and which stream.
enum ShardScanner {
    /// Where the bytes stop.
    struct Cut {
        var indexInShard: Int?
        var sequenceId: String?
        var stream: String
    }

    static let lz4Magic: UInt32 = 0x184D_2204

    /// The error for a shard of `size` bytes that should be longer (or lacks its footer).
    static func truncationError(fd: Int32, file: String, size: Int, expected: Int?, firstSequence: Int) -> ShardError {
        let cut = locate(fd: fd, file: file, size: size)
        let place = ShardPlace(file: file, sequenceIndex: cut.indexInShard.map { firstSequence + $0 },
                               sequenceId: cut.sequenceId, stream: cut.stream)
        return .cut(place, actualBytes: size, expectedBytes: expected)
    }

    /// Follows the structure until it runs past `size`; returns the stream it was in.
    static func locate(fd: Int32, file: String, size: Int) -> Cut {
        func bytes(_ offset: Int, _ count: Int) -> [UInt8]? {
            guard offset >= 0, count >= 0, offset + count <= size else { return nil }
            return try? ShardFile.read(fd: fd, file: file, offset: offset, count: count)
        }
        func u32(_ offset: Int) -> UInt32? {
            guard let b = bytes(offset, 4) else { return nil }
            return UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24
        }
        guard size >= ShardLayout.headerSize else { return Cut(stream: "header") }
        var at = ShardLayout.headerSize
        var sequence: Int?
        var id: String?
        var streams: [StreamKind] = []
        var frameCount = 0
        var streamIndex = 0, frameInStream = 0
        func label() -> String {
            guard streamIndex < streams.count else { return "streams after the declared ones" }
            let kind = streams[streamIndex]
            return kind == .annotations ? "annotations" : "\(kind) frame \(frameInStream)"
        }
        while true {
            guard let magic = u32(at) else {
                // Cut inside a sequence's declared streams, or after all of them (the index is lost).
                return streamIndex < streams.count ? Cut(indexInShard: sequence, sequenceId: id, stream: label()) : Cut(stream: "index")
            }
            if magic == lz4Magic {
                guard let end = lz4FrameEnd(at: at, u32: u32, bytes: bytes) else {
                    return Cut(indexInShard: sequence, sequenceId: id, stream: label())
                }
                at = end
                frameInStream += 1
                if streamIndex < streams.count {
                    let perStream = streams[streamIndex] == .annotations ? 1 : frameCount
                    if frameInStream >= perStream { streamIndex += 1; frameInStream = 0 }
                }
            } else if bytes(at, 4) == SequenceHeader.magic {
                guard let length = u32(at + 8), let json = bytes(at + 12, Int(length)), bytes(at + 12 + Int(length), 8) != nil,
                      let content = try? JSONDecoder().decode(SequenceHeader.Content.self, from: Data(json)) else {
                    return Cut(indexInShard: (sequence ?? -1) + 1, stream: "sequence header")
                }
                sequence = u32(at + 4).map(Int.init)
                id = content.info.id
                streams = SequenceHeader.kinds(content.streams)
                frameCount = content.info.frameCount
                streamIndex = 0
                frameInStream = 0
                at += 12 + Int(length) + 8
            } else {
                // The index (or anything else) follows the last stream: the cut is after the streams.
                return Cut(stream: bytes(at, 4) == ShardLayout.indexMagic ? "index" : "footer")
            }
        }
    }

    /// The end of the LZ4 frame at `at`, or nil if it runs past the file (see the LZ4 frame spec).
    static func lz4FrameEnd(at: Int, u32: (Int) -> UInt32?, bytes: (Int, Int) -> [UInt8]?) -> Int? {
        guard let descriptor = bytes(at + 4, 2) else { return nil }
        let flags = descriptor[0]
        let contentSize = flags & 0x08 != 0, contentChecksum = flags & 0x04 != 0
        let blockChecksum = flags & 0x10 != 0, dictionary = flags & 0x01 != 0
        var p = at + 4 + 2 + (contentSize ? 8 : 0) + (dictionary ? 4 : 0) + 1
        while true {
            guard let word = u32(p) else { return nil }
            p += 4
            if word == 0 { break }
            p += Int(word & 0x7FFF_FFFF) + (blockChecksum ? 4 : 0)
        }
        if contentChecksum { p += 4 }
        return bytes(p - 1, 1) == nil ? nil : p
    }
}
