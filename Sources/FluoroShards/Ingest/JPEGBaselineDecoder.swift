import CTurboJPEG
import Foundation

/// Why one JPEG frame did not decode (the caller adds the file and frame).
enum JPEGProblem: Error {
    /// libjpeg-turbo refused the stream (its message).
    case library(String)
    /// The frame's size is not the image's Rows x Columns.
    case sizeMismatch(width: Int, height: Int)
    /// A JPEG process TurboJPEG cannot decode (12-bit, lossless, arithmetic...), with the SOF marker.
    case unsupportedProcess(marker: UInt8, precision: Int)
}

/// Decodes 8-bit JPEG frames (DICOM JPEG Baseline and 8-bit JPEG Extended) to 8-bit gray with
/// libjpeg-turbo's TurboJPEG API, using the accurate integer IDCT (the "islow" of the reference
/// decode). One instance per thread: a TurboJPEG handle is not thread-safe.
final class JPEGBaselineDecoder {
    private let handle: tjhandle

    init?() {
        guard let h = tjInitDecompress() else { return nil }
        handle = h
    }

    deinit { tjDestroy(handle) }

    /// The start-of-frame marker (0xC0...0xCF) and sample precision of a JPEG stream, or nil when
    /// none is found before the first scan.
    static func frameHeader(_ jpeg: UnsafeRawBufferPointer) -> (marker: UInt8, precision: Int)? {
        guard jpeg.count >= 4, jpeg[0] == 0xFF, jpeg[1] == 0xD8 else { return nil }
        var p = 2
        while p + 1 < jpeg.count {
            guard jpeg[p] == 0xFF else { return nil }
            var marker = jpeg[p + 1]
            p += 2
            while marker == 0xFF, p < jpeg.count { marker = jpeg[p]; p += 1 }  // fill bytes
            if marker == 0x01 || (0xD0...0xD8).contains(marker) { continue }   // no length
            guard p + 2 <= jpeg.count else { return nil }
            let length = Int(jpeg[p]) << 8 | Int(jpeg[p + 1])
            let isFrame = (0xC0...0xCF).contains(marker) && marker != 0xC4 && marker != 0xC8 && marker != 0xCC
            if isFrame { return p + 2 < jpeg.count ? (marker, Int(jpeg[p + 2])) : nil }
            if marker == 0xDA || length < 2 { return nil }
            p += length
        }
        return nil
    }

    /// Decodes one frame into `output` (`width * height` bytes, row-major gray).
    func decode(_ jpeg: UnsafeRawBufferPointer, width: Int, height: Int, into output: UnsafeMutableRawBufferPointer) throws {
        guard let base = jpeg.baseAddress?.assumingMemoryBound(to: UInt8.self), jpeg.count > 0 else {
            throw JPEGProblem.library("empty frame")
        }
        // TurboJPEG 2.x decodes only 8-bit Huffman processes (SOF0, SOF1, SOF2): say so plainly.
        if let header = Self.frameHeader(jpeg), header.precision != 8 || ![0xC0, 0xC1, 0xC2].contains(header.marker) {
            throw JPEGProblem.unsupportedProcess(marker: header.marker, precision: header.precision)
        }
        var w: Int32 = 0, h: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        if tjDecompressHeader3(handle, base, UInt(jpeg.count), &w, &h, &subsampling, &colorspace) != 0 {
            try checkWarning()
        }
        guard Int(w) == width, Int(h) == height else { throw JPEGProblem.sizeMismatch(width: Int(w), height: Int(h)) }
        guard output.count >= width * height, let out = output.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
            throw JPEGProblem.library("output buffer too small")
        }
        let flags = Int32(TJFLAG_ACCURATEDCT)
        if tjDecompress2(handle, base, UInt(jpeg.count), out, w, w, h, Int32(TJPF_GRAY.rawValue), flags) != 0 {
            try checkWarning()
        }
    }

    /// After a call returned -1: throws for errors and for warnings alike. libjpeg's warnings
    /// ("Corrupt JPEG data...", "Premature end of JPEG file") mean pixels were guessed or skipped,
    /// and a silently damaged frame in a training set is worse than a refused file.
    private func checkWarning() throws {
        let kind = tjGetErrorCode(handle) == Int32(TJERR_WARNING.rawValue) ? "warning" : "error"
        throw JPEGProblem.library("libjpeg-turbo \(kind): \(errorMessage())")
    }

    private func errorMessage() -> String {
        guard let s = tjGetErrorStr2(handle) else { return "unknown TurboJPEG error" }
        return String(cString: s)
    }
}
