import Foundation

/// Why a clinical file (DICOM or NumPy) could not be read. Every case names the file and its
/// description says what to do about it.
public enum IngestError: Error, CustomStringConvertible, Equatable {
    /// The file or directory could not be opened or listed.
    case unreadable(file: String, reason: String)
    /// Neither DICOM Part 10 ("DICM" at byte 128) nor NumPy ("\x93NUMPY" at byte 0).
    case unrecognizedFormat(file: String)
    /// The file ends inside a structure (`what`, at byte `offset`).
    case truncated(file: String, what: String, offset: Int)
    /// The DICOM structure is broken (bad item tag, impossible length, too deep nesting...).
    case malformedDICOM(file: String, detail: String)
    /// A transfer syntax Fluoro does not decode; `hint` says how to convert the file.
    case unsupportedTransferSyntax(uid: String, name: String, file: String, hint: String)
    /// A required attribute is absent.
    case missingAttribute(file: String, tag: String, name: String)
    /// An attribute holds a value Fluoro cannot use (e.g. SamplesPerPixel 3, BitsAllocated 32).
    case unsupportedPixelLayout(file: String, detail: String)
    /// The Modality is not XA or RF and the caller did not force it.
    case unsupportedModality(file: String, modality: String)
    /// Encapsulated pixel data could not be split into NumberOfFrames frames.
    case frameCountMismatch(file: String, detail: String)
    /// A codec (GDCM's, or libjpeg-turbo for 8-bit JPEG) failed on frame `frame` (-1: GDCM decodes all frames at once).
    case decodeFailed(file: String, frame: Int, syntax: String, reason: String)
    /// A DICOM object that is not an image: a DICOMDIR, a structured report, a presentation state...
    case notAnImage(file: String, detail: String)
    /// The decoder itself failed: GDCM crashed in its isolated process, ran out of memory, threw.
    case decoderFailed(file: String, detail: String)
    /// The `.npy` header is broken.
    case malformedNumPy(file: String, detail: String)
    /// A valid `.npy` that Fluoro does not take (dtype, byte order, Fortran order, shape); `hint` says how to fix it.
    case unsupportedNumPy(file: String, detail: String, hint: String)
    /// A float32 `.npy` value outside [0, 1] (or NaN / infinity) at flat index `index`.
    case valueOutOfRange(file: String, index: Int, value: Float)

    /// The file (or directory) concerned.
    public var file: String {
        switch self {
        case .unreadable(let f, _), .unrecognizedFormat(let f), .truncated(let f, _, _),
             .malformedDICOM(let f, _), .unsupportedTransferSyntax(_, _, let f, _),
             .missingAttribute(let f, _, _), .unsupportedPixelLayout(let f, _),
             .unsupportedModality(let f, _), .frameCountMismatch(let f, _),
             .decodeFailed(let f, _, _, _), .notAnImage(let f, _), .decoderFailed(let f, _), .malformedNumPy(let f, _), .unsupportedNumPy(let f, _, _),
             .valueOutOfRange(let f, _, _):
            return f
        }
    }

    public var description: String {
        switch self {
        case let .unreadable(file, reason):
            return "\(file): cannot read (\(reason)); check the path and its permissions"
        case let .unrecognizedFormat(file):
            return "\(file): neither a DICOM Part 10 file (no \"DICM\" at byte 128) nor a NumPy .npy array "
                + "(no \\x93NUMPY magic); give a DICOM XA/RF file with its preamble (e.g. `dcmconv` rewrites one) "
                + "or an array saved with numpy.save"
        case let .truncated(file, what, offset):
            return "\(file): file ends inside \(what) (at byte \(offset)); the file is truncated or corrupt, copy it again"
        case let .malformedDICOM(file, detail):
            return "\(file): malformed DICOM: \(detail); check it with `dciodvfy` or `dcmdump` and re-export it"
        case let .unsupportedTransferSyntax(uid, name, file, hint):
            return "\(file): transfer syntax \(name) (\(uid)) is not supported; \(hint)"
        case let .missingAttribute(file, tag, name):
            return "\(file): required attribute \(name) \(tag) is missing; the file is not a complete image, re-export it"
        case let .unsupportedPixelLayout(file, detail):
            return "\(file): \(detail)"
        case let .unsupportedModality(file, modality):
            let shown = modality.isEmpty ? "no Modality (0008,0060)" : "modality \(modality)"
            return "\(file): \(shown), not X-ray angiography (XA) or radio-fluoroscopy (RF); Fluoro learns from "
                + "interventional X-ray video and refuses other images (CT, MR, US...) so they do not pollute "
                + "the training set. If this file really is fluoroscopy, force it with --allow-any-modality "
                + "(IngestOptions.allowAnyModality)"
        case let .frameCountMismatch(file, detail):
            return "\(file): \(detail); the file is damaged or NumberOfFrames (0028,0008) is wrong, re-export it"
        case let .decodeFailed(file, frame, syntax, reason):
            let which = frame >= 0 ? "frame \(frame)" : "the pixel data"
            return "\(file): \(syntax) \(which) does not decode: \(reason); the file is probably corrupt, "
                + "check it with `gdcmconv --raw in.dcm out.dcm` or DCMTK's `dcmdjpeg`/`dcmdjpls`"
        case let .notAnImage(file, detail):
            return "\(file): \(detail); Fluoro packs X-ray images only, so this file is left out"
        case let .decoderFailed(file, detail):
            return "\(file): \(detail); the file is left out"
        case let .malformedNumPy(file, detail):
            return "\(file): malformed .npy file: \(detail); write it again with numpy.save"
        case let .unsupportedNumPy(file, detail, hint):
            return "\(file): \(detail); \(hint)"
        case let .valueOutOfRange(file, index, value):
            return "\(file): float32 value \(value) at flat index \(index) is outside [0, 1]; float arrays must be "
                + "normalised intensities: save `np.clip(a / a.max(), 0, 1).astype(np.float32)` "
                + "or the raw counts as uint8/uint16"
        }
    }
}
