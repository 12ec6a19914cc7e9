import Foundation

/// A DICOM Part 10 parser (PS3.10 7.1, PS3.5 7): the 128-byte preamble and "DICM", the file meta
/// group (always explicit VR little endian) giving the transfer syntax, then the dataset in
/// explicit or implicit VR little endian up to Pixel Data. Sequences and items of undefined length
/// are skipped, nested to any sane depth; encapsulated Pixel Data is split into its Basic Offset
/// Table and fragments. Every length is bounds-checked.
enum DICOMParser {
    /// "DICM" at byte 128.
    static let magic: [UInt8] = Array("DICM".utf8)
    /// Value of an undefined length.
    static let undefinedLength: UInt32 = 0xFFFF_FFFF
    /// Deeper nesting than this is treated as a malformed (or hostile) file.
    static let maximumDepth = 32

    /// True when `data` starts like a DICOM Part 10 file.
    static func looksLikeDICOM(_ data: Data) -> Bool {
        ByteReader(data: data, file: "").matches(magic, at: 128)
    }

    /// Parses `data` (the bytes of `file`).
    static func parse(_ data: Data, file: String) throws -> DICOMDataset {
        var reader = ByteReader(data: data, file: file)
        guard reader.matches(magic, at: 128) else { throw IngestError.unrecognizedFormat(file: file) }
        reader.position = 132

        // File meta group: explicit VR little endian whatever the transfer syntax.
        var meta: [DICOMTag: DICOMElement] = [:]
        while reader.remaining >= 8 {
            let group = reader.data.withUnsafeBytes { UInt16(littleEndian: $0.loadUnaligned(fromByteOffset: reader.position, as: UInt16.self)) }
            if group != 0x0002 { break }
            let (tag, element, length) = try readHeader(&reader, explicit: true)
            guard length != undefinedLength else {
                throw IngestError.malformedDICOM(file: file, detail: "file meta element \(tag) has undefined length")
            }
            meta[tag] = DICOMElement(valueRepresentation: element, range: try reader.take(Int(length), "file meta element \(tag)"))
        }
        let metaSet = DICOMDataset(data: reader.data, file: file, transferSyntaxUID: "", transferSyntax: .explicitLittle,
                                   elements: meta, pixels: nil)
        guard let uid = metaSet.string(.transferSyntaxUID) else {
            throw IngestError.missingAttribute(file: file, tag: DICOMTag.transferSyntaxUID.description, name: "TransferSyntaxUID")
        }
        let syntax = try DICOMTransferSyntax.resolve(uid, file: file)
        let explicit = syntax != .implicitLittle

        // Dataset: top-level elements until Pixel Data (tags ascend, so nothing after it matters).
        var elements: [DICOMTag: DICOMElement] = [:]
        var pixels: DICOMPixelStorage?
        while reader.remaining > 0 {
            let start = reader.position
            let (tag, vr, length) = try readHeader(&reader, explicit: explicit)
            if tag.group == 0xFFFE {
                throw IngestError.malformedDICOM(file: file, detail: "item tag \(tag) at byte \(start) outside a sequence")
            }
            if tag == .pixelData {
                if length == undefinedLength {
                    pixels = try readEncapsulated(&reader)
                } else {
                    pixels = .native(try reader.take(Int(length), "Pixel Data (7FE0,0010)"))
                }
                break
            }
            if length == undefinedLength {
                // An undefined-length UN holds implicit VR content (PS3.5 6.2.2).
                try skipSequence(&reader, explicit: explicit && vr != "UN", depth: 1)
            } else {
                let range = try reader.take(Int(length), "element \(tag) of \(length) bytes")
                // An explicit "UN" (a private or re-encoded attribute) is read by its dictionary VR.
                let known = vr == "UN" ? DICOMDictionary.valueRepresentations[tag] ?? vr : vr
                if tag.group != 0xFFFC { elements[tag] = DICOMElement(valueRepresentation: known, range: range) }
            }
        }
        return DICOMDataset(data: reader.data, file: file, transferSyntaxUID: uid, transferSyntax: syntax,
                            elements: elements, pixels: pixels)
    }

    /// Reads an element header: tag, VR (explicit, or from the dictionary) and value length.
    /// Item and delimitation tags carry no VR in either encoding.
    static func readHeader(_ reader: inout ByteReader, explicit: Bool) throws -> (DICOMTag, String, UInt32) {
        let start = reader.position
        let tag = try reader.tag("an element tag")
        if tag.group == 0xFFFE {
            return (tag, "", try reader.uint32("the length of item \(tag)"))
        }
        guard explicit else {
            let length = try reader.uint32("the length of element \(tag)")
            return (tag, DICOMDictionary.valueRepresentations[tag] ?? "UN", length)
        }
        guard let vr = try reader.valueRepresentation("the VR of element \(tag)") else {
            throw IngestError.malformedDICOM(
                file: reader.file,
                detail: "element \(tag) at byte \(start) has no valid explicit VR (is the transfer syntax wrong?)")
        }
        if DICOMDictionary.longHeaderVRs.contains(vr) {
            _ = try reader.uint16("the reserved bytes of element \(tag)")
            return (tag, vr, try reader.uint32("the length of element \(tag)"))
        }
        return (tag, vr, UInt32(try reader.uint16("the length of element \(tag)")))
    }

    /// Skips an undefined-length value: items until the Sequence Delimitation Item. Items of
    /// undefined length are walked element by element until their Item Delimitation Item.
    static func skipSequence(_ reader: inout ByteReader, explicit: Bool, depth: Int) throws {
        guard depth <= maximumDepth else {
            throw IngestError.malformedDICOM(file: reader.file, detail: "sequences nested deeper than \(maximumDepth) at byte \(reader.position)")
        }
        while true {
            let start = reader.position
            let tag = try reader.tag("a sequence item")
            let length = try reader.uint32("the length of a sequence item")
            if tag == .sequenceDelimitation { return }
            guard tag == .item else {
                throw IngestError.malformedDICOM(file: reader.file, detail: "expected an item tag in a sequence at byte \(start), found \(tag)")
            }
            if length != undefinedLength {
                _ = try reader.take(Int(length), "a sequence item of \(length) bytes")
                continue
            }
            // Undefined-length item: its elements, until the Item Delimitation Item.
            while true {
                let (inner, vr, innerLength) = try readHeader(&reader, explicit: explicit)
                if inner == .itemDelimitation { break }
                if inner.group == 0xFFFE {
                    throw IngestError.malformedDICOM(file: reader.file, detail: "unexpected \(inner) inside an item near byte \(reader.position)")
                }
                if innerLength == undefinedLength {
                    try skipSequence(&reader, explicit: explicit && vr != "UN", depth: depth + 1)
                } else {
                    _ = try reader.take(Int(innerLength), "element \(inner) of \(innerLength) bytes inside a sequence")
                }
            }
        }
    }

    /// Reads encapsulated Pixel Data (PS3.5 A.4): the Basic Offset Table item, then fragment
    /// items until the Sequence Delimitation Item.
    static func readEncapsulated(_ reader: inout ByteReader) throws -> DICOMPixelStorage {
        let tableTag = try reader.tag("the Basic Offset Table")
        let tableLength = try reader.uint32("the Basic Offset Table length")
        guard tableTag == .item, tableLength != undefinedLength, tableLength % 4 == 0 else {
            throw IngestError.malformedDICOM(file: reader.file, detail: "encapsulated Pixel Data does not start with a Basic Offset Table item")
        }
        var offsets: [Int] = []
        let count = Int(tableLength / 4)
        try reader.require(Int(tableLength), "the Basic Offset Table")
        offsets.reserveCapacity(count)
        for _ in 0..<count { offsets.append(Int(try reader.uint32("the Basic Offset Table"))) }

        var fragments: [DICOMFragment] = []
        let first = reader.position
        while true {
            let start = reader.position
            let tag = try reader.tag("a pixel data fragment")
            let length = try reader.uint32("the length of a pixel data fragment")
            if tag == .sequenceDelimitation { break }
            guard tag == .item, length != undefinedLength else {
                throw IngestError.malformedDICOM(file: reader.file, detail: "expected a pixel data fragment item at byte \(start), found \(tag)")
            }
            let range = try reader.take(Int(length), "a pixel data fragment of \(length) bytes")
            fragments.append(DICOMFragment(itemOffset: start - first, range: range))
        }
        return .encapsulated(offsets: offsets, fragments: fragments)
    }
}
