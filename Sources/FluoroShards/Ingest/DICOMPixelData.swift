import Foundation

/// The image pixel module of a DICOM file, validated: what Fluoro needs to turn stored values
/// into `.uint8` / `.uint16` frames.
///
/// Conventions (applied to native and JPEG pixels alike):
/// - Values are shifted down so HighBit is bit BitsStored-1, then masked to BitsStored bits.
/// - Signed pixels (PixelRepresentation 1) are shifted to unsigned by adding 2^(BitsStored-1)
///   (flipping the sign bit), so the most negative value maps to 0 and order is kept. Rescale
///   slope/intercept are not applied: Fluoro normalises intensities per clip anyway.
/// - MONOCHROME1 (0 = white) is inverted to the MONOCHROME2 convention (0 = black) as
///   2^BitsStored - 1 - v, so every run looks like ordinary XA: dark, contrast-filled vessels
///   and devices on a bright background.
struct DICOMPixelLayout {
    var rows: Int
    var columns: Int
    var frames: Int
    var bitsAllocated: Int
    var bitsStored: Int
    var highBit: Int
    var signed: Bool
    var monochrome1: Bool

    /// Pixels of one frame.
    var framePixels: Int { rows * columns }

    init(_ dataset: DICOMDataset) throws {
        let file = dataset.file
        func bad(_ detail: String) -> IngestError { .unsupportedPixelLayout(file: file, detail: detail) }
        let samples = dataset.integer(.samplesPerPixel) ?? 1
        guard samples == 1 else {
            throw bad("SamplesPerPixel is \(samples): Fluoro takes grayscale X-ray only (1 sample per pixel); "
                      + "a colour file is probably a screen capture, not an acquisition")
        }
        let photometric = dataset.string(.photometricInterpretation) ?? "MONOCHROME2"
        guard photometric == "MONOCHROME1" || photometric == "MONOCHROME2" else {
            throw bad("PhotometricInterpretation is \(photometric): Fluoro takes MONOCHROME1 or MONOCHROME2 only")
        }
        monochrome1 = photometric == "MONOCHROME1"
        rows = try dataset.requiredInteger(.rows)
        columns = try dataset.requiredInteger(.columns)
        frames = dataset.integer(.numberOfFrames) ?? 1
        guard rows > 0, columns > 0, frames > 0, rows <= 65535, columns <= 65535 else {
            throw bad("image shape \(frames) frames x \(rows) rows x \(columns) columns is empty or impossible")
        }
        bitsAllocated = try dataset.requiredInteger(.bitsAllocated)
        guard bitsAllocated == 8 || bitsAllocated == 16 else {
            throw bad("BitsAllocated is \(bitsAllocated): Fluoro takes 8- or 16-bit pixels; "
                      + "convert with `gdcmconv --raw` or re-export as 16-bit")
        }
        bitsStored = dataset.integer(.bitsStored) ?? bitsAllocated
        highBit = dataset.integer(.highBit) ?? (bitsStored - 1)
        guard bitsStored >= 1, bitsStored <= bitsAllocated, highBit >= bitsStored - 1, highBit < bitsAllocated else {
            throw bad("BitsStored \(bitsStored) / HighBit \(highBit) do not fit BitsAllocated \(bitsAllocated)")
        }
        let representation = dataset.integer(.pixelRepresentation) ?? 0
        guard representation == 0 || representation == 1 else { throw bad("PixelRepresentation is \(representation), not 0 or 1") }
        signed = representation == 1
        let (total, overflow) = frames.multipliedReportingOverflow(by: framePixels * 2)
        guard !overflow, total < Int(Int32.max) * 64 else { throw bad("\(frames) frames of \(rows)x\(columns) is too large") }
    }
}

/// Turns DICOM pixel data (native or encapsulated JPEG) into frames [T, H, W].
enum DICOMPixelData {
    /// Maps stored values to Fluoro's convention (see `DICOMPixelLayout`): v -> [mono1 ? max - ] ((v >> shift) & mask) ^ sign.
    @inline(__always)
    static func normalized(_ raw: UInt32, shift: UInt32, mask: UInt32, sign: UInt32, invert: Bool) -> UInt32 {
        let v = ((raw >> shift) & mask) ^ sign
        return invert ? mask - v : v
    }

    /// Native pixels: [T, H, W] stored values, 8-bit to `.uint8`, 16-bit little endian to `.uint16`.
    static func native(_ dataset: DICOMDataset, range: Range<Int>, layout: DICOMPixelLayout) throws -> Data {
        let n = layout.frames * layout.framePixels
        let bytesPerPixel = layout.bitsAllocated / 8
        guard range.count >= n * bytesPerPixel else {
            throw IngestError.malformedDICOM(
                file: dataset.file,
                detail: "Pixel Data holds \(range.count) bytes but \(layout.frames) frames of \(layout.rows)x\(layout.columns) "
                    + "at \(layout.bitsAllocated) bits need \(n * bytesPerPixel)")
        }
        // One pad byte is normal; a whole frame more means NumberOfFrames is missing or wrong,
        // and packing the first frames alone would silently lose the rest.
        let frameBytes = layout.framePixels * bytesPerPixel
        let extra = range.count - n * bytesPerPixel
        if frameBytes > 0 && extra > 1 && extra >= frameBytes {
            throw IngestError.malformedDICOM(
                file: dataset.file,
                detail: "Pixel Data holds \(range.count / frameBytes) frames of \(layout.rows)x\(layout.columns) but NumberOfFrames "
                    + "says \(layout.frames) (1 when absent); fix NumberOfFrames (0028,0008), e.g. with dcmodify, and pack again")
        }
        var out = Data(count: n * bytesPerPixel)
        let shift = UInt32(layout.highBit + 1 - layout.bitsStored)
        let mask = UInt32((1 << layout.bitsStored) - 1)
        let sign: UInt32 = layout.signed ? 1 << UInt32(layout.bitsStored - 1) : 0
        let invert = layout.monochrome1
        dataset.data.withUnsafeBytes { (src: UnsafeRawBufferPointer) in
            out.withUnsafeMutableBytes { (dst: UnsafeMutableRawBufferPointer) in
                let s = UnsafeRawBufferPointer(rebasing: src[range])
                if bytesPerPixel == 1 {
                    let d = dst.bindMemory(to: UInt8.self)
                    for i in 0..<n {
                        d[i] = UInt8(truncatingIfNeeded: normalized(UInt32(s[i]), shift: shift, mask: mask, sign: sign, invert: invert))
                    }
                } else {
                    let d = dst.bindMemory(to: UInt16.self)
                    for i in 0..<n {
                        let raw = UInt32(UInt16(littleEndian: s.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                        d[i] = UInt16(normalized(raw, shift: shift, mask: mask, sign: sign, invert: invert)).littleEndian
                    }
                }
            }
        }
        return out
    }

    /// Groups fragments into frames: by the Basic Offset Table when it has one entry per frame,
    /// else one fragment per frame when the counts agree, else all fragments for a single frame,
    /// else a new frame at every fragment that starts with a JPEG SOI marker (FF D8).
    static func splitFrames(_ dataset: DICOMDataset, offsets: [Int], fragments: [DICOMFragment], frames: Int) throws -> [[Range<Int>]] {
        if offsets.count == frames, offsets.first == 0, zip(offsets, offsets.dropFirst()).allSatisfy({ $0 < $1 }) {
            var groups = Array(repeating: [Range<Int>](), count: frames)
            var frame = 0
            for fragment in fragments {
                while frame + 1 < frames && fragment.itemOffset >= offsets[frame + 1] { frame += 1 }
                groups[frame].append(fragment.range)
            }
            // Every offset must point at a fragment's item tag, else the table is not trusted.
            let starts = Set(fragments.map(\.itemOffset))
            if offsets.allSatisfy(starts.contains), groups.allSatisfy({ !$0.isEmpty }) { return groups }
        }
        if fragments.count == frames { return fragments.map { [$0.range] } }
        if frames == 1, !fragments.isEmpty { return [fragments.map(\.range)] }
        var groups: [[Range<Int>]] = []
        dataset.data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            for fragment in fragments {
                let r = fragment.range
                let startsImage = r.count >= 2 && raw[r.lowerBound] == 0xFF && raw[r.lowerBound + 1] == 0xD8
                if startsImage || groups.isEmpty { groups.append([r]) } else { groups[groups.count - 1].append(r) }
            }
        }
        guard groups.count == frames else {
            throw IngestError.frameCountMismatch(
                file: dataset.file, expected: frames, found: groups.count,
                detail: "\(fragments.count) fragments, \(offsets.count) Basic Offset Table entries, "
                    + "\(groups.count) JPEG start-of-image markers")
        }
        return groups
    }

    /// Encapsulated JPEG: decodes every frame to 8-bit gray, then applies the sign / MONOCHROME1 conventions.
    static func jpeg(_ dataset: DICOMDataset, offsets: [Int], fragments: [DICOMFragment], layout: DICOMPixelLayout) throws -> Data {
        let groups = try splitFrames(dataset, offsets: offsets, fragments: fragments, frames: layout.frames)
        guard let decoder = JPEGBaselineDecoder() else {
            throw IngestError.jpegDecodeFailed(file: dataset.file, frame: 0, reason: "cannot create a TurboJPEG decompressor")
        }
        let framePixels = layout.framePixels
        var out = Data(count: layout.frames * framePixels)
        try dataset.data.withUnsafeBytes { (src: UnsafeRawBufferPointer) in
            try out.withUnsafeMutableBytes { (dst: UnsafeMutableRawBufferPointer) in
                for (t, group) in groups.enumerated() {
                    let target = UnsafeMutableRawBufferPointer(rebasing: dst[(t * framePixels)..<((t + 1) * framePixels)])
                    do {
                        if group.count == 1 {
                            try decoder.decode(UnsafeRawBufferPointer(rebasing: src[group[0]]), width: layout.columns, height: layout.rows, into: target)
                        } else {
                            var joined = [UInt8]()
                            joined.reserveCapacity(group.reduce(0) { $0 + $1.count })
                            for r in group { joined.append(contentsOf: src[r]) }
                            try joined.withUnsafeBytes { try decoder.decode($0, width: layout.columns, height: layout.rows, into: target) }
                        }
                    } catch let problem as JPEGProblem {
                        throw describe(problem, dataset: dataset, frame: t, layout: layout)
                    }
                }
                // Sign and MONOCHROME1 conventions on the decoded 8-bit values.
                if layout.signed || layout.monochrome1 {
                    let d = dst.bindMemory(to: UInt8.self)
                    for i in 0..<d.count {
                        d[i] = UInt8(normalized(UInt32(d[i]), shift: 0, mask: 0xFF, sign: layout.signed ? 0x80 : 0, invert: layout.monochrome1))
                    }
                }
            }
        }
        return out
    }

    /// Turns a decoder problem into an error naming the file, the frame and what to do.
    static func describe(_ problem: JPEGProblem, dataset: DICOMDataset, frame: Int, layout: DICOMPixelLayout) -> IngestError {
        switch problem {
        case .library(let reason):
            return .jpegDecodeFailed(file: dataset.file, frame: frame, reason: reason)
        case let .sizeMismatch(width, height):
            return .jpegDecodeFailed(file: dataset.file, frame: frame,
                                     reason: "it is \(width)x\(height) but Columns x Rows is \(layout.columns)x\(layout.rows)")
        case let .unsupportedProcess(marker, precision):
            let uid = dataset.transferSyntaxUID
            let name = (DICOMTransferSyntax.names[uid] ?? "JPEG") + String(format: ", SOF marker 0x%02X with %d-bit samples", marker, precision)
            return .unsupportedTransferSyntax(
                uid: uid, name: name, file: dataset.file,
                hint: "libjpeg-turbo's TurboJPEG decodes only 8-bit lossy JPEG; "
                    + DICOMTransferSyntax.conversionHint("1.2.840.10008.1.2.4.51"))
        }
    }
}
