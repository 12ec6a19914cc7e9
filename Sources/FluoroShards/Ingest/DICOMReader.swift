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

/// Turns a parsed DICOM XA/RF image into a `FrameSequence`: checks modality and pixel layout,
/// reads timing and spacing, decodes the pixels and derives a de-identified id.
enum DICOMReader {
    /// Modalities accepted without `allowAnyModality`.
    static let xrayModalities: Set<String> = ["XA", "RF"]

    /// Reads DICOM Part 10 bytes of `file`.
    static func read(_ data: Data, file: String, options: IngestOptions) throws -> FrameSequence {
        let dataset = try DICOMParser.parse(data, file: file)

        // Modality: XA or RF, or an X-ray SOP class when Modality is absent.
        let modality = dataset.string(.modality) ?? ""
        let sopClass = dataset.string(.sopClassUID) ?? ""
        let isXray = xrayModalities.contains(modality) || (modality.isEmpty && DICOMDictionary.xraySOPClasses.contains(sopClass))
        if !isXray && !options.allowAnyModality {
            throw IngestError.unsupportedModality(file: file, modality: modality)
        }

        let layout = try DICOMPixelLayout(dataset)
        guard let storage = dataset.pixels else {
            throw IngestError.missingAttribute(file: file, tag: DICOMTag.pixelData.description, name: "PixelData")
        }
        let pixels: Data
        let format: PixelFormat
        let bitsStored: Int
        switch (dataset.transferSyntax, storage) {
        case (.implicitLittle, .native(let range)), (.explicitLittle, .native(let range)):
            pixels = try DICOMPixelData.native(dataset, range: range, layout: layout)
            format = layout.bitsAllocated == 8 ? .uint8 : .uint16
            bitsStored = layout.bitsStored
        case (.jpeg, .encapsulated(let offsets, let fragments)):
            pixels = try DICOMPixelData.jpeg(dataset, offsets: offsets, fragments: fragments, layout: layout)
            format = .uint8
            bitsStored = 8
        case (.jpeg, .native):
            throw IngestError.malformedDICOM(file: file, detail: "the transfer syntax is JPEG but Pixel Data is not encapsulated")
        case (_, .encapsulated):
            throw IngestError.malformedDICOM(file: file, detail: "the transfer syntax is uncompressed but Pixel Data is encapsulated")
        }

        // Identity: a hash of the SOP Instance UID (or, lacking one, of the file's bytes).
        let id: String
        if let uid = dataset.string(.sopInstanceUID) {
            id = Deidentification.identifier(kind: "dcm", of: Data(uid.utf8))
        } else {
            id = Deidentification.identifier(kind: "dcm", of: data)
        }

        let syntaxName = DICOMTransferSyntax.names[dataset.transferSyntaxUID] ?? dataset.transferSyntaxUID
        let info = SequenceInfo(
            id: id, frameCount: layout.frames, width: layout.columns, height: layout.rows,
            pixelFormat: format, bitsStored: bitsStored, frameTimeMs: frameTime(dataset, frames: layout.frames),
            pixelSpacingMm: pixelSpacing(dataset), modality: modality.isEmpty ? modalityOf(sopClass: sopClass) : modality,
            source: "dicom \(syntaxName) (\(dataset.transferSyntaxUID))")
        let sequence = FrameSequence(info: info, pixels: pixels)
        if let problem = sequence.validationProblem() {
            throw IngestError.malformedDICOM(file: file, detail: problem)
        }
        return sequence
    }

    /// "XA" or "RF" for the X-ray SOP classes (used when Modality is absent), else "OT" (other).
    static func modalityOf(sopClass: String) -> String {
        if sopClass.hasPrefix("1.2.840.10008.5.1.4.1.1.12.1") { return "XA" }
        if sopClass.hasPrefix("1.2.840.10008.5.1.4.1.1.12.2") { return "RF" }
        return "OT"
    }

    /// Milliseconds between frames: FrameTime (0018,1063); else the mean of FrameTimeVector
    /// (0018,1065) after its leading 0; else 1000 / CineRate (0018,0040) or RecommendedDisplayFrameRate.
    static func frameTime(_ dataset: DICOMDataset, frames: Int) -> Double? {
        if let t = dataset.decimals(.frameTime)?.first, t > 0 { return t }
        if let vector = dataset.decimals(.frameTimeVector), vector.count >= 2 {
            let increments = vector.dropFirst().filter { $0 > 0 }
            if !increments.isEmpty { return increments.reduce(0, +) / Double(increments.count) }
        }
        for tag in [DICOMTag.cineRate, .recommendedDisplayFrameRate] {
            if let rate = dataset.decimals(tag)?.first, rate > 0 { return 1000 / rate }
        }
        return nil
    }

    /// Pixel spacing in mm (row, column) in the patient plane: PixelSpacing (0028,0030); else
    /// ImagerPixelSpacing (0018,1164), which is measured at the detector, divided by the
    /// magnification: EstimatedRadiographicMagnificationFactor (0018,1114), or source-to-detector
    /// over source-to-patient distance (0018,1110)/(0018,1111). Without a magnification the
    /// patient-plane spacing is unknown (nil): a detector value would overstate it by 20–50%.
    static func pixelSpacing(_ dataset: DICOMDataset) -> [Double]? {
        func pair(_ tag: DICOMTag) -> [Double]? {
            guard let values = dataset.decimals(tag), values.count == 2, values.allSatisfy({ $0 > 0 }) else { return nil }
            return values
        }
        if let values = pair(.pixelSpacing) { return values }
        guard let detector = pair(.imagerPixelSpacing) else { return nil }
        func positive(_ tag: DICOMTag) -> Double? { dataset.decimals(tag)?.first.flatMap { $0 > 0 ? $0 : nil } }
        let magnification = positive(.estimatedMagnification)
            ?? positive(.distanceSourceToDetector).flatMap { sid in positive(.distanceSourceToPatient).map { sid / $0 } }
        guard let magnification, magnification >= 1 else { return nil }
        return detector.map { $0 / magnification }
    }
}
