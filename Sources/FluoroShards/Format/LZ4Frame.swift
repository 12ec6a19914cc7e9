import CLZ4
import Foundation

/// Errors from LZ4 frame encoding and decoding.
public enum LZ4FrameError: Error, CustomStringConvertible, Equatable {
    case compressionFailed(String)
    case decompressionFailed(String)
    case truncated(expected: Int, got: Int)

    public var description: String {
        switch self {
        case .compressionFailed(let why): return "LZ4 frame compression failed: \(why)"
        case .decompressionFailed(let why): return "LZ4 frame is corrupt: \(why)"
        case let .truncated(expected, got): return "LZ4 frame is truncated: decoded \(got) of \(expected) bytes"
        }
    }
}

/// Standard LZ4 frames (the format of the `lz4` command-line tool): independent blocks, the
/// content size in the header and a content checksum at the end, so `lz4 -d` decodes any
/// stream cut out of a shard and corruption is always detected.
public enum LZ4Frame {
    /// Block size of the frames Fluoro writes (the CLI's default is 4 MB too).
    public static let blockSize = LZ4F_max4MB

    static func preferences(contentSize: Int, level: Int32) -> LZ4F_preferences_t {
        var prefs = LZ4F_preferences_t()
        prefs.frameInfo.blockSizeID = blockSize
        prefs.frameInfo.blockMode = LZ4F_blockIndependent
        prefs.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled
        prefs.frameInfo.blockChecksumFlag = LZ4F_noBlockChecksum
        prefs.frameInfo.contentSize = UInt64(contentSize)
        prefs.frameInfo.frameType = LZ4F_frame
        prefs.compressionLevel = level
        return prefs
    }

    /// Compresses `input` into one LZ4 frame. `level` 0 is the fast default; 3...12 use LZ4-HC.
    public static func compress(_ input: UnsafeRawBufferPointer, level: Int32 = 0) throws -> Data {
        var out = Data(count: compressBound(input.count, level: level))
        let written = try out.withUnsafeMutableBytes { try compress(input, into: $0, level: level) }
        out.count = written
        return out
    }

    /// The most bytes `compress` can produce for `count` input bytes at `level`.
    public static func compressBound(_ count: Int, level: Int32 = 0) -> Int {
        var prefs = preferences(contentSize: count, level: level)
        return LZ4F_compressFrameBound(count, &prefs)
    }

    /// Compresses `input` into one LZ4 frame at the start of `output` (at least
    /// `compressBound(input.count, level:)` bytes; the same frame `compress` returns) and returns
    /// its length, so a caller can reuse one buffer for many frames.
    public static func compress(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer,
                                level: Int32 = 0) throws -> Int {
        var prefs = preferences(contentSize: input.count, level: level)
        let bound = LZ4F_compressFrameBound(input.count, &prefs)
        guard output.count >= bound else {
            throw LZ4FrameError.compressionFailed("output buffer of \(output.count) bytes is below the bound of \(bound)")
        }
        let written = LZ4F_compressFrame(output.baseAddress, bound, input.baseAddress, input.count, &prefs)
        if LZ4F_isError(written) != 0 {
            throw LZ4FrameError.compressionFailed(String(cString: LZ4F_getErrorName(written)))
        }
        return written
    }

    /// Compresses a byte array into one LZ4 frame.
    public static func compress(_ input: Data, level: Int32 = 0) throws -> Data {
        try input.withUnsafeBytes { try compress($0, level: level) }
    }

    /// The content size recorded in a frame's header, or nil if the header lacks it.
    public static func contentSize(of frame: UnsafeRawBufferPointer) throws -> Int? {
        var ctx: OpaquePointer?
        let created = LZ4F_createDecompressionContext(&ctx, UInt32(LZ4F_VERSION))
        if LZ4F_isError(created) != 0 { throw LZ4FrameError.decompressionFailed("cannot create a context") }
        defer { LZ4F_freeDecompressionContext(ctx) }
        var info = LZ4F_frameInfo_t()
        var consumed = frame.count
        let code = LZ4F_getFrameInfo(ctx, &info, frame.baseAddress, &consumed)
        if LZ4F_isError(code) != 0 {
            throw LZ4FrameError.decompressionFailed(String(cString: LZ4F_getErrorName(code)))
        }
        return info.contentSize == 0 ? nil : Int(info.contentSize)
    }

    /// Decompresses one whole LZ4 frame into `output`, which must hold exactly the content size.
    /// Verifies the content checksum; throws on corruption or truncation, never crashes.
    public static func decompress(_ frame: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws {
        try LZ4FrameDecoder().decompress(frame, into: output)
    }

    /// Decompresses one whole LZ4 frame whose header records its content size.
    public static func decompress(_ frame: Data) throws -> Data {
        try frame.withUnsafeBytes { src in
            guard let size = try contentSize(of: src) else {
                throw LZ4FrameError.decompressionFailed("frame header has no content size")
            }
            var out = Data(count: size)
            try out.withUnsafeMutableBytes { try decompress(src, into: $0) }
            return out
        }
    }
}

/// A reusable LZ4 frame decompression context: decode many frames without re-creating it.
/// Not thread-safe: use one per thread (or per call).
public final class LZ4FrameDecoder {
    private var ctx: OpaquePointer?

    public init() throws {
        let created = LZ4F_createDecompressionContext(&ctx, UInt32(LZ4F_VERSION))
        if LZ4F_isError(created) != 0 || ctx == nil { throw LZ4FrameError.decompressionFailed("cannot create a context") }
    }

    deinit { LZ4F_freeDecompressionContext(ctx) }

    /// Decompresses one whole LZ4 frame straight into `output`, which must hold exactly the content
    /// size. Verifies the content checksum; throws on corruption or truncation, never crashes.
    public func decompress(_ frame: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws {
        do {
            try run(frame, into: output)
        } catch {
            LZ4F_resetDecompressionContext(ctx)
            throw error
        }
    }

    private func run(_ frame: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws {
        guard let src = frame.baseAddress, frame.count > 0 else { throw LZ4FrameError.truncated(expected: output.count, got: 0) }
        var srcOffset = 0
        var dstOffset = 0
        var hint = 1
        var opts = LZ4F_decompressOptions_t()
        opts.stableDst = 1
        while hint != 0 {
            var srcSize = frame.count - srcOffset
            var dstSize = output.count - dstOffset
            if srcSize == 0 { throw LZ4FrameError.truncated(expected: output.count, got: dstOffset) }
            hint = LZ4F_decompress(ctx, output.baseAddress.map { $0 + dstOffset }, &dstSize,
                                   src + srcOffset, &srcSize, &opts)
            if LZ4F_isError(hint) != 0 {
                throw LZ4FrameError.decompressionFailed(String(cString: LZ4F_getErrorName(hint)))
            }
            srcOffset += srcSize
            dstOffset += dstSize
            if srcSize == 0 && dstSize == 0 && hint != 0 {
                // No progress: output is full but the frame wants more room.
                throw LZ4FrameError.decompressionFailed("content is larger than the \(output.count) bytes expected")
            }
        }
        if dstOffset != output.count { throw LZ4FrameError.truncated(expected: output.count, got: dstOffset) }
        if srcOffset != frame.count { throw LZ4FrameError.decompressionFailed("\(frame.count - srcOffset) bytes after the frame's end") }
    }
}
