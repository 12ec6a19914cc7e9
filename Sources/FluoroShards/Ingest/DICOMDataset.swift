import Foundation

/// One top-level data element: its VR (explicit, or from the dictionary for implicit VR) and
/// where its value lies in the file.
struct DICOMElement {
    var valueRepresentation: String
    var range: Range<Int>
}

/// One fragment of encapsulated pixel data.
struct DICOMFragment {
    /// Offset of the fragment's item tag from the first fragment's item tag (what the Basic Offset Table counts).
    var itemOffset: Int
    /// The fragment's bytes in the file.
    var range: Range<Int>
}

/// Where the pixels are.
enum DICOMPixelStorage {
    /// Native pixels: one contiguous value.
    case native(Range<Int>)
    /// Encapsulated pixels: the Basic Offset Table (possibly empty) and the fragments.
    case encapsulated(offsets: [Int], fragments: [DICOMFragment])
}

/// A parsed DICOM Part 10 file: the transfer syntax, the top-level elements up to Pixel Data
/// (sequences are skipped), and where the pixels are. Values are read lazily from `data`.
struct DICOMDataset {
    /// The whole file.
    let data: Data
    /// The file's name, for errors.
    let file: String
    /// Transfer Syntax UID from the file meta group.
    let transferSyntaxUID: String
    /// How the dataset and pixels are encoded.
    let transferSyntax: DICOMTransferSyntax
    /// Top-level elements other than Pixel Data.
    let elements: [DICOMTag: DICOMElement]
    /// Pixel Data (7FE0,0010), when present.
    let pixels: DICOMPixelStorage?

    /// Raw value bytes of `tag`.
    func bytes(_ tag: DICOMTag) -> Data? {
        guard let e = elements[tag] else { return nil }
        return data.subdata(in: e.range)
    }

    /// The values of a string attribute, split on backslash, trimmed of spaces and NULs; nil when absent or empty.
    func strings(_ tag: DICOMTag) -> [String]? {
        guard let raw = bytes(tag), !raw.isEmpty else { return nil }
        let text = String(decoding: raw, as: UTF8.self)
        let values = text.split(separator: "\\", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " \0")) }
        return values.allSatisfy(\.isEmpty) ? nil : values
    }

    /// The first value of a string attribute.
    func string(_ tag: DICOMTag) -> String? { strings(tag)?.first }

    /// An integer attribute, read by its VR (US, UL, SS, SL binary; IS text); nil when absent or unparsable.
    func integer(_ tag: DICOMTag) -> Int? {
        guard let e = elements[tag] else { return nil }
        let n = e.range.count
        func load<T: FixedWidthInteger>(_: T.Type) -> T? {
            guard n >= MemoryLayout<T>.size else { return nil }
            return data.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: e.range.lowerBound, as: T.self)) }
        }
        switch e.valueRepresentation {
        case "US": return load(UInt16.self).map(Int.init)
        case "SS": return load(Int16.self).map(Int.init)
        case "UL": return load(UInt32.self).map(Int.init)
        case "SL": return load(Int32.self).map(Int.init)
        default:
            guard let s = string(tag) else { return nil }
            return Int(s) ?? Double(s).flatMap { $0.isFinite && $0 == $0.rounded() && abs($0) < 1e15 ? Int($0) : nil }
        }
    }

    /// The values of a decimal string (DS) or integer string (IS) attribute; nil when absent or any value is unparsable.
    func decimals(_ tag: DICOMTag) -> [Double]? {
        guard let values = strings(tag) else { return nil }
        let numbers = values.compactMap { Double($0) }.filter(\.isFinite)
        return numbers.count == values.count ? numbers : nil
    }

    /// A required integer attribute.
    func requiredInteger(_ tag: DICOMTag) throws -> Int {
        guard let value = integer(tag) else {
            throw IngestError.missingAttribute(file: file, tag: tag.description, name: DICOMDictionary.names[tag] ?? "attribute")
        }
        return value
    }
}
