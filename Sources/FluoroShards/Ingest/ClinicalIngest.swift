import Foundation

/// Clinical ingest: DICOM XA/RF files and NumPy arrays become `FrameSequence`s for the shard writer.
///
/// Formats are recognised by content, never by extension: DICOM Part 10 ("DICM" at byte 128),
/// read by GDCM through `CFluoroDICOM` in every transfer syntax an XA/RF archive holds
/// (uncompressed little/big endian, deflated, JPEG Baseline/Extended/Lossless, JPEG-LS, JPEG 2000,
/// RLE; classic and Enhanced XA/XRF); NumPy `.npy` ("\x93NUMPY" at byte 0) of uint8, uint16 or
/// float32 [T, H, W]. Anything else is an `IngestError` that names the file and says what to do,
/// in one line. No patient data is kept: a sequence's id is a SHA-256 prefix of the SOP Instance
/// UID (DICOM) or of the file (NumPy).
///
/// Pixel conventions (applied by `CFluoroDICOM` as it decodes):
/// - DICOM BitsAllocated 8 -> `.uint8`, 16 -> `.uint16` (little endian); `bitsStored` is the
///   file's. Native values are shifted down when HighBit > BitsStored-1 and masked to BitsStored;
///   decoded (compressed) values are clamped to it, since lossy codecs overshoot a little.
/// - Signed pixels (PixelRepresentation 1) are shifted to unsigned by +2^(BitsStored-1); Rescale
///   Slope/Intercept are not applied.
/// - MONOCHROME1 is inverted (2^BitsStored-1-v) to the MONOCHROME2 convention: contrast-filled
///   vessels and devices dark on a bright background, as in ordinary XA.
/// - Colour (RGB, YBR, palette) is refused, not converted: an X-ray acquisition is grayscale.
/// - Modality must be XA or RF (or absent with an XA/RF SOP class) unless `IngestOptions.allowAnyModality`.
/// - NumPy uint8/uint16 are stored as is (bitsStored 8/16); float32 must lie in [0, 1] and becomes
///   `.uint16` round(v * 65535) with bitsStored 16; NaN or out-of-range values are refused.
public enum ClinicalIngest {
    /// What a file's first bytes say it is.
    public enum Format: String, Sendable {
        case dicom
        case numpy
    }

    /// The format of `data` by its magic bytes, or nil.
    public static func format(of data: Data) -> Format? {
        if DICOMReader.looksLikeDICOM(data) { return .dicom }
        if NumPyHeader.looksLikeNumPy(data) { return .numpy }
        return nil
    }

    /// The format of the file at `url`, reading only its first 132 bytes; nil if unreadable or neither.
    public static func format(of url: URL) -> Format? {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return nil }
        defer { try? handle.close() }
        guard let head = try? handle.read(upToCount: 132) else { return nil }
        return format(of: head)
    }

    /// Starts the DICOM decoding process now (it otherwise starts with the first DICOM file), so
    /// its start-up overlaps the caller's other work, e.g. `pack` opening its dataset. One process
    /// decodes every DICOM file of this process, one at a time, and is replaced when a file kills it.
    public static func startDICOMDecoder() {
        if DICOMReader.isolated { DICOMDecoder.shared.start() }
    }

    /// Reads one DICOM or NumPy file into a sequence [T, H, W].
    public static func read(_ url: URL) throws -> FrameSequence {
        try read(url, options: IngestOptions())
    }

    /// Reads one DICOM or NumPy file into a sequence [T, H, W], with options (e.g. `allowAnyModality`).
    public static func read(_ url: URL, options: IngestOptions) throws -> FrameSequence {
        let file = url.path
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw IngestError.unreadable(file: file, reason: (error as NSError).localizedDescription)
        }
        return try read(data, file: file, options: options)
    }

    /// Reads the bytes of a DICOM or NumPy file; `file` names it in errors.
    public static func read(_ data: Data, file: String, options: IngestOptions = IngestOptions()) throws -> FrameSequence {
        switch format(of: data) {
        case .dicom: return try DICOMReader.read(data, file: file, options: options)
        case .numpy: return try NumPyArray.read(data, file: file)
        case nil: throw IngestError.unrecognizedFormat(file: file)
        }
    }

    /// Files under `directory` (recursively, skipping hidden files and directories) whose content
    /// starts like DICOM Part 10 or NumPy, sorted by path. Other files (READMEs, licences) are left
    /// out; a DICOM file that is not an image (e.g. a DICOMDIR) is listed and fails `read` clearly.
    public static func candidates(in directory: URL) throws -> [URL] {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw IngestError.unreadable(file: directory.path, reason: "not a directory")
        }
        let keys: [URLResourceKey] = [.isRegularFileKey, .isSymbolicLinkKey]
        guard let walker = manager.enumerator(at: directory, includingPropertiesForKeys: keys,
                                              options: [.skipsHiddenFiles, .skipsPackageDescendants]) else {
            throw IngestError.unreadable(file: directory.path, reason: "cannot list the directory")
        }
        var found: [URL] = []
        for case let url as URL in walker {
            if url.lastPathComponent.hasPrefix(".") { continue }
            // Symbolic links count when they point at a regular file.
            let target = url.resolvingSymlinksInPath()
            guard (try? target.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true else { continue }
            if format(of: url) != nil { found.append(url) }
        }
        return found.sorted { $0.path < $1.path }
    }
}
