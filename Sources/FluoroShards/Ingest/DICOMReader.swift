import CFluoroDICOM
import Foundation

/// Options of clinical ingest.
public struct IngestOptions: Sendable, Equatable {
    /// Accept DICOM files whose Modality is not XA or RF (CLI: `--allow-any-modality`). Off by
    /// default: Fluoro pretrains on interventional X-ray video, and a CT or MR series in the
    /// training set is a mistake worth stopping for.
    public var allowAnyModality: Bool

    public init(allowAnyModality: Bool = false) {
        self.allowAnyModality = allowAnyModality
    }
}

/// The attributes ingest reads besides the pixel module, looked up at the top level, in the Shared
/// Functional Groups and per frame in the Per-frame Functional Groups (Enhanced XA/XRF).
enum DICOMAttribute: Int, CaseIterable {
    case sopClassUID, sopInstanceUID, modality, recommendedDisplayFrameRate
    case cineRate, frameTime, frameTimeVector, imagerPixelSpacing
    case distanceSourceToDetector, distanceSourceToPatient, distanceSourceToIsocenter, estimatedMagnification
    case pixelSpacing, frameReferenceDateTime, frameAcquisitionDateTime

    /// (group << 16) | element.
    var tag: UInt32 {
        switch self {
        case .sopClassUID: return 0x0008_0016
        case .sopInstanceUID: return 0x0008_0018
        case .modality: return 0x0008_0060
        case .recommendedDisplayFrameRate: return 0x0008_2144
        case .cineRate: return 0x0018_0040
        case .frameTime: return 0x0018_1063
        case .frameTimeVector: return 0x0018_1065
        case .imagerPixelSpacing: return 0x0018_1164
        case .distanceSourceToDetector: return 0x0018_1110
        case .distanceSourceToPatient: return 0x0018_1111
        case .distanceSourceToIsocenter: return 0x0018_9402
        case .estimatedMagnification: return 0x0018_1114
        case .pixelSpacing: return 0x0028_0030
        case .frameReferenceDateTime: return 0x0018_9151
        case .frameAcquisitionDateTime: return 0x0018_9074
        }
    }

    static let tags: [UInt32] = allCases.map(\.tag)
}

/// The text of the attributes of one file: `top` holds the top-level value (else the Shared
/// Functional Groups'), `perFrame` one value per Per-frame Functional Groups item.
struct DICOMAttributes {
    var top: [DICOMAttribute: String] = [:]
    var perFrame: [DICOMAttribute: [String?]] = [:]

    /// The values of a string attribute, split on backslash and trimmed; nil when absent or empty.
    func strings(_ a: DICOMAttribute) -> [String]? {
        guard let text = top[a], !text.isEmpty else { return nil }
        let values = text.split(separator: "\\", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " \0")) }
        return values.allSatisfy(\.isEmpty) ? nil : values
    }

    func string(_ a: DICOMAttribute) -> String? { strings(a)?.first }

    /// Decimal values (DS, IS, FL...); nil when absent or any value is unparsable.
    func decimals(_ a: DICOMAttribute) -> [Double]? {
        guard let values = strings(a) else { return nil }
        let numbers = values.compactMap { Double($0) }.filter(\.isFinite)
        return numbers.count == values.count ? numbers : nil
    }

    /// Decimal values, from the top level / shared groups, else from the frames when every frame
    /// has the same ones. Values that vary between frames (a zoom during the run) give nil: one
    /// spacing for the run would be wrong for some frames.
    func uniformDecimals(_ a: DICOMAttribute) -> [Double]? {
        if let values = decimals(a) { return values }
        guard let frames = perFrame[a], let first = frames.first ?? nil else { return nil }
        guard frames.allSatisfy({ $0 == first }) else { return nil }
        var single = DICOMAttributes()
        single.top[a] = first
        return single.decimals(a)
    }
}

/// Turns a DICOM XA/RF file into a `FrameSequence` through GDCM (the C++ target CFluoroDICOM):
/// checks modality and pixel layout, reads timing and spacing (classic or Enhanced XA/XRF), takes
/// the decoded pixels and derives a de-identified id.
enum DICOMReader {
    /// Modalities accepted without `allowAnyModality`.
    static let xrayModalities: Set<String> = ["XA", "RF"]
    /// "DICM" at byte 128.
    static let magic: [UInt8] = Array("DICM".utf8)
    /// Decode in a separate process (`DICOMDecoder`), so a file that makes GDCM assert or crash
    /// is reported, not fatal (on by default).
    nonisolated(unsafe) static var isolated = true

    /// True when `data` starts like a DICOM Part 10 file.
    static func looksLikeDICOM(_ data: Data) -> Bool {
        ByteReader(data: data, file: "").matches(magic, at: 128)
    }

    /// Names of well-known transfer syntaxes, for messages and `SequenceInfo.source`.
    static let transferSyntaxNames: [String: String] = [
        "1.2.840.10008.1.2": "Implicit VR Little Endian",
        "1.2.840.10008.1.2.1": "Explicit VR Little Endian",
        "1.2.840.10008.1.2.1.99": "Deflated Explicit VR Little Endian",
        "1.2.840.10008.1.2.2": "Explicit VR Big Endian",
        "1.2.840.10008.1.2.4.50": "JPEG Baseline (Process 1)",
        "1.2.840.10008.1.2.4.51": "JPEG Extended (Process 2 & 4)",
        "1.2.840.10008.1.2.4.57": "JPEG Lossless (Process 14)",
        "1.2.840.10008.1.2.4.70": "JPEG Lossless SV1 (Process 14, selection value 1)",
        "1.2.840.10008.1.2.4.80": "JPEG-LS Lossless",
        "1.2.840.10008.1.2.4.81": "JPEG-LS Near-Lossless",
        "1.2.840.10008.1.2.4.90": "JPEG 2000 Lossless",
        "1.2.840.10008.1.2.4.91": "JPEG 2000",
        "1.2.840.10008.1.2.4.100": "MPEG2 Main Profile",
        "1.2.840.10008.1.2.4.101": "MPEG2 Main Profile / High Level",
        "1.2.840.10008.1.2.4.102": "MPEG-4 AVC/H.264",
        "1.2.840.10008.1.2.4.103": "MPEG-4 AVC/H.264 BD-compatible",
        "1.2.840.10008.1.2.4.107": "HEVC/H.265",
        "1.2.840.10008.1.2.4.201": "High-Throughput JPEG 2000 Lossless",
        "1.2.840.10008.1.2.4.203": "High-Throughput JPEG 2000",
        "1.2.840.10008.1.2.5": "RLE Lossless",
    ]

    /// Reads DICOM Part 10 bytes of `file`, through `decoder` when `isolated`.
    static func read(_ data: Data, file: String, options: IngestOptions, decoder: DICOMDecoder = .shared) throws -> FrameSequence {
        guard looksLikeDICOM(data) else { throw IngestError.unrecognizedFormat(file: file) }
        var flags = Int32(FLUORO_DICOM_DECODE)
        if !options.allowAnyModality { flags |= Int32(FLUORO_DICOM_ONLY_XRAY) }
        let tags = DICOMAttribute.tags
        let decoded = isolated ? decoder.read(data, tags: tags, flags: flags) : data.withUnsafeBytes { raw in
            tags.withUnsafeBufferPointer { fluoro_dicom_read(raw.baseAddress, raw.count, $0.baseAddress, $0.count, flags) }
        }
        guard let result = decoded else {
            throw IngestError.decoderFailed(file: file, detail: "out of memory")
        }
        // Freed on return, unless the pixels are handed over without a copy (then by their Data).
        var handedOver = false
        defer { if !handedOver { fluoro_dicom_free(result) } }

        let uid = String(cString: fluoro_dicom_transfer_syntax(result))
        let syntaxName = transferSyntaxNames[uid] ?? (uid.isEmpty ? "unknown transfer syntax" : uid)
        try throwIfFailed(result, file: file, uid: uid, syntaxName: syntaxName)
        let module = fluoro_dicom_pixels_info(result)
        let attributes = Self.attributes(of: result, frames: Int(module.frames))

        // Modality: XA or RF, or an X-ray SOP class when Modality is absent.
        let modality = attributes.string(.modality) ?? ""
        let sopClass = attributes.string(.sopClassUID) ?? ""
        if module.is_xray == 0 && !options.allowAnyModality {
            throw IngestError.unsupportedModality(file: file, modality: modality)
        }

        let layout = try DICOMPixelLayout(module, photometric: String(cString: fluoro_dicom_photometric(result)), file: file)
        var count = 0
        guard module.decoded != 0, let pixelBytes = fluoro_dicom_pixels(result, &count),
              count == layout.frames * layout.framePixels * layout.bitsAllocated / 8 else {
            throw IngestError.decoderFailed(file: file, detail: "no pixels came back for a valid pixel module")
        }
        // The decoded run, without copying it again: the Data owns the result and frees it.
        let pixels = Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: pixelBytes), count: count,
                          deallocator: .custom { _, _ in fluoro_dicom_free(result) })
        handedOver = true

        // Identity: a hash of the SOP Instance UID (or, lacking one, of the file's bytes).
        let id: String
        if let instance = attributes.string(.sopInstanceUID) {
            id = Deidentification.identifier(kind: "dcm", of: Data(instance.utf8))
        } else {
            id = Deidentification.identifier(kind: "dcm", of: data)
        }

        let info = SequenceInfo(
            id: id, frameCount: layout.frames, width: layout.columns, height: layout.rows,
            pixelFormat: layout.bitsAllocated == 8 ? .uint8 : .uint16, bitsStored: layout.bitsStored,
            frameTimeMs: frameTime(attributes), pixelSpacingMm: pixelSpacing(attributes),
            modality: modality.isEmpty ? modalityOf(sopClass: sopClass) : modality,
            source: "dicom \(syntaxName) (\(uid))")
        let sequence = FrameSequence(info: info, pixels: pixels)
        if let problem = sequence.validationProblem() {
            throw IngestError.malformedDICOM(file: file, detail: problem)
        }
        return sequence
    }

    /// Throws the IngestError that names what went wrong, unless `result` decoded.
    static func throwIfFailed(_ result: OpaquePointer, file: String, uid: String, syntaxName: String) throws {
        let message = String(cString: fluoro_dicom_error(result))
        switch fluoro_dicom_status_of(result) {
        case FLUORO_DICOM_OK: return
        case FLUORO_DICOM_MISSING_ATTRIBUTE:
            let tag = fluoro_dicom_missing_tag(result)
            let names: [UInt32: String] = [0x0028_0010: "Rows", 0x0028_0011: "Columns", 0x0028_0100: "BitsAllocated", 0x7FE0_0010: "PixelData"]
            let (group, element) = (UInt16(tag >> 16), UInt16(tag & 0xFFFF))
            throw IngestError.missingAttribute(file: file, tag: String(format: "(%04X,%04X)", group, element),
                                               name: names[tag] ?? "attribute")
        case FLUORO_DICOM_NOT_AN_IMAGE:
            throw IngestError.notAnImage(file: file, detail: message)
        case FLUORO_DICOM_UNSUPPORTED_SYNTAX:
            throw IngestError.unsupportedTransferSyntax(uid: uid, name: syntaxName, file: file, hint: unsupportedHint(uid))
        case FLUORO_DICOM_PIXEL_LENGTH, FLUORO_DICOM_UNPARSABLE:
            throw IngestError.malformedDICOM(file: file, detail: message)
        case FLUORO_DICOM_FRAME_COUNT:
            throw IngestError.frameCountMismatch(file: file, detail: message)
        case FLUORO_DICOM_DECODE_FAILED:
            throw IngestError.decodeFailed(file: file, frame: Int(fluoro_dicom_error_frame(result)), syntax: syntaxName, reason: message)
        default:
            throw IngestError.decoderFailed(file: file, detail: message)
        }
    }

    /// The attributes Fluoro reads, file-level and (where present) per frame of `frames`.
    static func attributes(of result: OpaquePointer, frames: Int) -> DICOMAttributes {
        var attributes = DICOMAttributes()
        for a in DICOMAttribute.allCases {
            if let text = fluoro_dicom_value(result, a.rawValue, -1) { attributes.top[a] = String(cString: text) }
            let perFrame: [String?] = (0..<frames).map { f in fluoro_dicom_value(result, a.rawValue, Int32(f)).map { String(cString: $0) } }
            if perFrame.contains(where: { $0 != nil }) { attributes.perFrame[a] = perFrame }
        }
        return attributes
    }

    /// What to do with a file whose transfer syntax GDCM cannot decode.
    static func unsupportedHint(_ uid: String) -> String {
        "GDCM 3.0 decodes every uncompressed, JPEG, JPEG-LS, JPEG 2000 and RLE syntax but not video (MPEG-2, H.264, "
            + "HEVC) or High-Throughput JPEG 2000; export the run from the archive as JPEG Lossless or uncompressed "
            + "(e.g. `dcmdjpeg`, `gdcmconv --raw` on a machine whose tools know the syntax)"
    }

    /// "XA" or "RF" for the X-ray SOP classes (used when Modality is absent), else "OT" (other).
    static func modalityOf(sopClass: String) -> String {
        if sopClass.hasPrefix("1.2.840.10008.5.1.4.1.1.12.1") { return "XA" }
        if sopClass.hasPrefix("1.2.840.10008.5.1.4.1.1.12.2") { return "RF" }
        return "OT"
    }

    /// Milliseconds between frames: FrameTime (0018,1063); else the mean of FrameTimeVector
    /// (0018,1065) after its leading 0; else 1000 / CineRate (0018,0040) or
    /// RecommendedDisplayFrameRate (0008,2144); else (Enhanced XA/XRF) the mean step between the
    /// frames' Frame Reference DateTime (0018,9151) or Frame Acquisition DateTime (0018,9074).
    static func frameTime(_ attributes: DICOMAttributes) -> Double? {
        if let t = attributes.decimals(.frameTime)?.first, t > 0 { return t }
        if let vector = attributes.decimals(.frameTimeVector), vector.count >= 2 {
            let increments = vector.dropFirst().filter { $0 > 0 }
            if !increments.isEmpty { return increments.reduce(0, +) / Double(increments.count) }
        }
        for a in [DICOMAttribute.cineRate, .recommendedDisplayFrameRate] {
            if let rate = attributes.decimals(a)?.first, rate > 0 { return 1000 / rate }
        }
        for a in [DICOMAttribute.frameReferenceDateTime, .frameAcquisitionDateTime] {
            guard let values = attributes.perFrame[a], values.count >= 2 else { continue }
            let times = values.map { $0.flatMap(secondsOf(dateTime:)) }
            guard times.allSatisfy({ $0 != nil }) else { continue }
            let t = times.compactMap { $0 }
            let steps = zip(t, t.dropFirst()).map { ($1 - $0) * 1000 }.filter { $0 > 0 }
            if !steps.isEmpty { return steps.reduce(0, +) / Double(steps.count) }
        }
        return nil
    }

    /// Seconds since 0001-01-01 of a DICOM DT value (YYYYMMDDHHMMSS.FFFFFF, trailing parts optional,
    /// any UTC offset ignored: only differences between frames matter).
    static func secondsOf(dateTime text: String) -> Double? {
        let body = text.split(whereSeparator: { $0 == "+" || $0 == "-" }).first.map(String.init) ?? text
        let parts = body.split(separator: ".", maxSplits: 1)
        guard let digits = parts.first, digits.count >= 8, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else { return nil }
        func field(_ offset: Int, _ length: Int) -> Int {
            let chars = Array(digits)
            guard offset + length <= chars.count else { return 0 }
            return Int(String(chars[offset..<(offset + length)])) ?? 0
        }
        let (year, month, day) = (field(0, 4), field(4, 2), field(6, 2))
        guard (1...12).contains(month), (1...31).contains(day) else { return nil }
        // Days from civil (Howard Hinnant's algorithm).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy
        var seconds = Double(days * 86400 + field(8, 2) * 3600 + field(10, 2) * 60 + field(12, 2))
        if parts.count == 2, let fraction = Double("0." + parts[1]) { seconds += fraction }
        return seconds
    }

    /// Pixel spacing in mm (row, column) in the patient plane: PixelSpacing (0028,0030, also in
    /// the Pixel Measures functional group); else ImagerPixelSpacing (0018,1164, also in the
    /// XA/XRF Frame Pixel Data Properties group), which is measured at the detector, divided by
    /// the magnification: EstimatedRadiographicMagnificationFactor (0018,1114), or
    /// source-to-detector distance (0018,1110) over source-to-patient (0018,1111) or, in Enhanced
    /// XA, source-to-isocenter (0018,9402) distance. Without a magnification the patient-plane
    /// spacing is unknown (nil): a detector value would overstate it by 20–50%. Values that vary
    /// from frame to frame give nil too.
    static func pixelSpacing(_ attributes: DICOMAttributes) -> [Double]? {
        func pair(_ a: DICOMAttribute) -> [Double]? {
            guard let values = attributes.uniformDecimals(a), values.count == 2, values.allSatisfy({ $0 > 0 }) else { return nil }
            return values
        }
        if let values = pair(.pixelSpacing) { return values }
        guard let detector = pair(.imagerPixelSpacing) else { return nil }
        func positive(_ a: DICOMAttribute) -> Double? { attributes.uniformDecimals(a)?.first.flatMap { $0 > 0 ? $0 : nil } }
        let sourceToObject = positive(.distanceSourceToPatient) ?? positive(.distanceSourceToIsocenter)
        let magnification = positive(.estimatedMagnification)
            ?? positive(.distanceSourceToDetector).flatMap { sid in sourceToObject.map { sid / $0 } }
        guard let magnification, magnification >= 1 else { return nil }
        return detector.map { $0 / magnification }
    }
}

/// The image pixel module of a DICOM file, validated: what Fluoro needs to store frames as
/// `.uint8` / `.uint16`. The conventions (shift to HighBit, mask to BitsStored, signed to unsigned,
/// MONOCHROME1 inverted) are applied by CFluoroDICOM as it decodes; see `ClinicalIngest`.
struct DICOMPixelLayout {
    var rows: Int
    var columns: Int
    var frames: Int
    var bitsAllocated: Int
    var bitsStored: Int

    /// Pixels of one frame.
    var framePixels: Int { rows * columns }

    init(_ module: fluoro_dicom_pixel_module, photometric: String, file: String) throws {
        func bad(_ detail: String) -> IngestError { .unsupportedPixelLayout(file: file, detail: detail) }
        // Colour is refused, not converted: an XA/RF acquisition is grayscale, so a colour file is a
        // screen capture or a report page, which would teach the model nothing about X-ray.
        guard photometric.isEmpty || photometric == "MONOCHROME1" || photometric == "MONOCHROME2" else {
            throw bad("PhotometricInterpretation is \(photometric): Fluoro takes grayscale MONOCHROME1 or MONOCHROME2 only; "
                      + "a colour file is probably a screen capture, not an acquisition")
        }
        let samples = Int(module.samples_per_pixel)
        guard samples == 1 else {
            throw bad("SamplesPerPixel is \(samples): Fluoro takes grayscale X-ray only (1 sample per pixel); "
                      + "a colour file is probably a screen capture, not an acquisition")
        }
        rows = Int(module.rows)
        columns = Int(module.columns)
        frames = Int(module.frames)
        guard rows > 0, columns > 0, frames > 0, rows <= 65535, columns <= 65535 else {
            throw bad("image shape \(frames) frames x \(rows) rows x \(columns) columns is empty or impossible")
        }
        bitsAllocated = Int(module.bits_allocated)
        guard bitsAllocated == 8 || bitsAllocated == 16 else {
            throw bad("BitsAllocated is \(bitsAllocated): Fluoro takes 8- or 16-bit pixels; "
                      + "convert with `gdcmconv --raw` or re-export as 16-bit")
        }
        bitsStored = Int(module.bits_stored)
        let highBit = Int(module.high_bit)
        guard bitsStored >= 1, bitsStored <= bitsAllocated, highBit >= bitsStored - 1, highBit < bitsAllocated else {
            throw bad("BitsStored \(bitsStored) / HighBit \(highBit) do not fit BitsAllocated \(bitsAllocated)")
        }
        let representation = Int(module.pixel_representation)
        guard representation == 0 || representation == 1 else { throw bad("PixelRepresentation is \(representation), not 0 or 1") }
    }
}
