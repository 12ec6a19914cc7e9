import Foundation

/// A DICOM data element tag (group, element).
struct DICOMTag: Hashable, CustomStringConvertible {
    var group: UInt16
    var element: UInt16

    init(_ group: UInt16, _ element: UInt16) { self.group = group; self.element = element }

    var description: String {
        "(" + String(format: "%04X,%04X", group, element) + ")"
    }

    // File meta.
    static let transferSyntaxUID = DICOMTag(0x0002, 0x0010)
    // Delimiters (no VR in either encoding).
    static let item = DICOMTag(0xFFFE, 0xE000)
    static let itemDelimitation = DICOMTag(0xFFFE, 0xE00D)
    static let sequenceDelimitation = DICOMTag(0xFFFE, 0xE0DD)
    // Identification.
    static let sopClassUID = DICOMTag(0x0008, 0x0016)
    static let sopInstanceUID = DICOMTag(0x0008, 0x0018)
    static let modality = DICOMTag(0x0008, 0x0060)
    static let recommendedDisplayFrameRate = DICOMTag(0x0008, 0x2144)
    // Acquisition timing and geometry.
    static let cineRate = DICOMTag(0x0018, 0x0040)
    static let frameTime = DICOMTag(0x0018, 0x1063)
    static let frameTimeVector = DICOMTag(0x0018, 0x1065)
    static let imagerPixelSpacing = DICOMTag(0x0018, 0x1164)
    static let distanceSourceToDetector = DICOMTag(0x0018, 0x1110)
    static let distanceSourceToPatient = DICOMTag(0x0018, 0x1111)
    static let estimatedMagnification = DICOMTag(0x0018, 0x1114)
    // Image pixel module.
    static let samplesPerPixel = DICOMTag(0x0028, 0x0002)
    static let photometricInterpretation = DICOMTag(0x0028, 0x0004)
    static let numberOfFrames = DICOMTag(0x0028, 0x0008)
    static let rows = DICOMTag(0x0028, 0x0010)
    static let columns = DICOMTag(0x0028, 0x0011)
    static let pixelSpacing = DICOMTag(0x0028, 0x0030)
    static let bitsAllocated = DICOMTag(0x0028, 0x0100)
    static let bitsStored = DICOMTag(0x0028, 0x0101)
    static let highBit = DICOMTag(0x0028, 0x0102)
    static let pixelRepresentation = DICOMTag(0x0028, 0x0103)
    static let pixelData = DICOMTag(0x7FE0, 0x0010)
}

/// The few facts of the DICOM data dictionary (PS3.6) ingest needs: the VR of each tag it
/// reads (implicit VR files do not carry it) and the transfer syntaxes it knows by name.
enum DICOMDictionary {
    /// Value representations of the tags ingest reads; anything else is "UN" in implicit VR.
    static let valueRepresentations: [DICOMTag: String] = [
        .sopClassUID: "UI", .sopInstanceUID: "UI", .modality: "CS", .recommendedDisplayFrameRate: "IS",
        .cineRate: "IS", .frameTime: "DS", .frameTimeVector: "DS", .imagerPixelSpacing: "DS",
        .distanceSourceToDetector: "DS", .distanceSourceToPatient: "DS", .estimatedMagnification: "DS",
        .samplesPerPixel: "US", .photometricInterpretation: "CS", .numberOfFrames: "IS",
        .rows: "US", .columns: "US", .pixelSpacing: "DS", .bitsAllocated: "US", .bitsStored: "US",
        .highBit: "US", .pixelRepresentation: "US", .pixelData: "OW",
    ]

    /// Attribute names for error messages.
    static let names: [DICOMTag: String] = [
        .transferSyntaxUID: "TransferSyntaxUID", .sopInstanceUID: "SOPInstanceUID", .modality: "Modality",
        .samplesPerPixel: "SamplesPerPixel", .photometricInterpretation: "PhotometricInterpretation",
        .numberOfFrames: "NumberOfFrames", .rows: "Rows", .columns: "Columns", .bitsAllocated: "BitsAllocated",
        .bitsStored: "BitsStored", .highBit: "HighBit", .pixelRepresentation: "PixelRepresentation",
        .pixelData: "PixelData",
    ]

    /// Explicit VRs whose header has two reserved bytes and a 32-bit length (PS3.5 7.1.2).
    static let longHeaderVRs: Set<String> = ["OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"]

    /// SOP classes of X-ray angiography and radio-fluoroscopy images (plain and enhanced).
    static let xraySOPClasses: Set<String> = [
        "1.2.840.10008.5.1.4.1.1.12.1", "1.2.840.10008.5.1.4.1.1.12.1.1",
        "1.2.840.10008.5.1.4.1.1.12.2", "1.2.840.10008.5.1.4.1.1.12.2.1",
    ]
}

/// How a transfer syntax is read.
enum DICOMTransferSyntax: Equatable {
    /// Native pixels, implicit VR little endian dataset.
    case implicitLittle
    /// Native pixels, explicit VR little endian dataset.
    case explicitLittle
    /// Encapsulated 8-bit JPEG (Baseline, or Extended holding 8-bit data), explicit VR little endian dataset.
    case jpeg

    /// Names of well-known transfer syntaxes, for messages.
    static let names: [String: String] = [
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
        "1.2.840.10008.1.2.4.102": "MPEG-4 AVC/H.264",
        "1.2.840.10008.1.2.4.201": "High-Throughput JPEG 2000 Lossless",
        "1.2.840.10008.1.2.4.203": "High-Throughput JPEG 2000",
        "1.2.840.10008.1.2.5": "RLE Lossless",
    ]

    /// The way to read `uid`, or an `unsupportedTransferSyntax` error saying how to convert the file.
    static func resolve(_ uid: String, file: String) throws -> DICOMTransferSyntax {
        switch uid {
        case "1.2.840.10008.1.2": return .implicitLittle
        case "1.2.840.10008.1.2.1": return .explicitLittle
        case "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51": return .jpeg
        default:
            throw IngestError.unsupportedTransferSyntax(uid: uid, name: names[uid] ?? "unknown transfer syntax",
                                                        file: file, hint: conversionHint(uid))
        }
    }

    /// How to turn a file of transfer syntax `uid` into one Fluoro reads (Explicit VR Little Endian).
    static func conversionHint(_ uid: String) -> String {
        let target = "Fluoro reads Explicit/Implicit VR Little Endian (uncompressed) and 8-bit JPEG Baseline"
        switch uid {
        case "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70", "1.2.840.10008.1.2.4.51":
            return "\(target); decompress with DCMTK `dcmdjpeg in.dcm out.dcm` or GDCM `gdcmconv --raw in.dcm out.dcm`"
        case "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81":
            return "\(target); decompress with DCMTK `dcmdjpls in.dcm out.dcm` or GDCM `gdcmconv --raw in.dcm out.dcm`"
        case "1.2.840.10008.1.2.5":
            return "\(target); decompress with DCMTK `dcmdrle in.dcm out.dcm` or GDCM `gdcmconv --raw in.dcm out.dcm`"
        case "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99":
            return "\(target); rewrite with DCMTK `dcmconv +te in.dcm out.dcm` or GDCM `gdcmconv --raw in.dcm out.dcm`"
        default:
            return "\(target); decompress with GDCM `gdcmconv --raw in.dcm out.dcm` "
                + "(or DCMTK `dcmdjpeg` for JPEG, `dcmdjpls` for JPEG-LS)"
        }
    }
}
