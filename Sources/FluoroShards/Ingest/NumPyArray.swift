import Foundation

/// Reads NumPy `.npy` arrays of X-ray frames: shape [T, H, W] (or [H, W] as one frame), C order,
/// dtype uint8 (`|u1`), little-endian uint16 (`<u2`) or little-endian float32 (`<f4`).
///
/// - uint8 -> `.uint8`, bitsStored 8; uint16 -> `.uint16`, bitsStored 16 (the array carries no
///   "bits stored", so the full range is assumed).
/// - float32 must hold normalised intensities in [0, 1]; they are stored as `.uint16` with
///   bitsStored 16, v -> round(v * 65535). NaN, infinities and values outside [0, 1] are refused
///   (naming the first offending index) rather than clipped silently.
/// - The id is "npy-" + a SHA-256 prefix of the file's bytes (never of its name, which may carry
///   a patient's name); modality is "OT" (unknown), frame time and spacing are unknown.
enum NumPyArray {
    /// Reads `.npy` bytes of `file`.
    static func read(_ data: Data, file: String) throws -> FrameSequence {
        let data = data.startIndex == 0 ? data : Data(data)  // offsets below are zero-based
        let header = try NumPyHeader(data, file: file)
        let saveHint = "save the array C-ordered and little-endian as uint8, uint16 or float32 in [0, 1], e.g. "
            + "`np.save(path, np.ascontiguousarray(a).astype('<u2'))`"
        if header.fortranOrder {
            throw IngestError.unsupportedNumPy(file: file, detail: "array is in Fortran (column-major) order", hint: saveHint)
        }
        let frames: Int, height: Int, width: Int
        switch header.shape.count {
        case 3: (frames, height, width) = (header.shape[0], header.shape[1], header.shape[2])
        case 2: (frames, height, width) = (1, header.shape[0], header.shape[1])
        default:
            throw IngestError.unsupportedNumPy(file: file, detail: "shape \(header.shape) is not [T, H, W] or [H, W]",
                                               hint: "reshape to frames x height x width (one grayscale run per file)")
        }
        guard frames > 0, height > 0, width > 0 else {
            throw IngestError.unsupportedNumPy(file: file, detail: "shape \(header.shape) is empty", hint: "save a non-empty run")
        }
        let descr = header.descr
        let byteOrder = descr.first ?? "|"
        let kind = descr.drop(while: { "<>|=".contains($0) })
        if byteOrder == ">" && kind != "u1" {
            throw IngestError.unsupportedNumPy(file: file, detail: "dtype \(descr) is big-endian", hint: saveHint)
        }
        let itemSize: Int
        switch kind {
        case "u1": itemSize = 1
        case "u2", "f4": itemSize = kind == "u2" ? 2 : 4
        default:
            throw IngestError.unsupportedNumPy(file: file, detail: "dtype \(descr) is not uint8, uint16 or float32", hint: saveHint)
        }
        let (plane, planeOverflow) = height.multipliedReportingOverflow(by: width)
        let (framesCount, framesOverflow) = frames.multipliedReportingOverflow(by: plane)
        let (_, bytesOverflow) = framesCount.multipliedReportingOverflow(by: itemSize)
        let (count, overflow) = (framesCount, planeOverflow || framesOverflow || bytesOverflow)
        guard !overflow, count <= (data.count - header.dataOffset) / itemSize else {
            throw IngestError.truncated(file: file, what: "the array data (\(header.shape) of \(descr) needs "
                                        + "\(overflow ? "too many" : String(count * itemSize)) bytes)", offset: data.count)
        }

        let base = header.dataOffset
        let pixels: Data, format: PixelFormat
        switch kind {
        case "u1":
            pixels = data.subdata(in: base..<(base + count))
            format = .uint8
        case "u2":
            pixels = data.subdata(in: base..<(base + 2 * count))  // already little endian
            format = .uint16
        default:
            pixels = try floatsToUInt16(data, offset: header.dataOffset, count: count, file: file)
            format = .uint16
        }
        let info = SequenceInfo(
            id: Deidentification.identifier(kind: "npy", of: data), frameCount: frames, width: width, height: height,
            pixelFormat: format, bitsStored: format == .uint8 ? 8 : 16, modality: "OT", source: "npy \(descr)")
        return FrameSequence(info: info, pixels: pixels)
    }

    /// float32 in [0, 1] -> UInt16 little endian, round(v * 65535); throws on the first value outside [0, 1].
    static func floatsToUInt16(_ data: Data, offset: Int, count: Int, file: String) throws -> Data {
        var out = Data(count: count * 2)
        var bad: (Int, Float)?
        data.withUnsafeBytes { (src: UnsafeRawBufferPointer) in
            out.withUnsafeMutableBytes { (dst: UnsafeMutableRawBufferPointer) in
                let d = dst.bindMemory(to: UInt16.self)
                for i in 0..<count {
                    let bits = UInt32(littleEndian: src.loadUnaligned(fromByteOffset: offset + 4 * i, as: UInt32.self))
                    let v = Float(bitPattern: bits)
                    guard v >= 0, v <= 1 else { bad = (i, v); return }  // NaN fails both comparisons
                    d[i] = UInt16((v * 65535).rounded()).littleEndian
                }
            }
        }
        if let (index, value) = bad { throw IngestError.valueOutOfRange(file: file, index: index, value: value) }
        return out
    }
}
