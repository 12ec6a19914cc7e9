import Foundation

/// A test-only DICOM Part 10 writer: preamble, explicit VR LE file meta, then a dataset in
/// explicit or implicit VR little endian, with undefined-length sequences and native or
/// encapsulated pixel data. Just enough to build the files the ingest tests need.
struct DICOMTestWriter {
    static let implicitLittle = "1.2.840.10008.1.2"
    static let explicitLittle = "1.2.840.10008.1.2.1"
    static let jpegBaseline = "1.2.840.10008.1.2.4.50"
    static let explicitBig = "1.2.840.10008.1.2.2"

    let transferSyntax: String
    let explicit: Bool
    /// Explicit VR Big Endian: tags, lengths and binary values most significant byte first.
    let bigEndian: Bool
    /// The dataset written so far.
    private(set) var body: [UInt8] = []

    init(transferSyntax: String) {
        self.transferSyntax = transferSyntax
        explicit = transferSyntax != Self.implicitLittle
        bigEndian = transferSyntax == Self.explicitBig
    }

    /// A 16- or 32-bit value in this writer's byte order.
    func w16(_ v: UInt16) -> [UInt8] { bigEndian ? Self.le16(v).reversed() : Self.le16(v) }
    func w32(_ v: UInt32) -> [UInt8] { bigEndian ? Self.le32(v).reversed() : Self.le32(v) }

    static func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
    static func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * UInt32($0))) } }

    /// An element header in this writer's encoding (or always explicit when `forceExplicit`).
    func header(_ group: UInt16, _ element: UInt16, vr: String, length: UInt32, forceExplicit: Bool = false) -> [UInt8] {
        var out = w16(group) + w16(element)
        guard explicit || forceExplicit else { return out + w32(length) }
        out += Array(vr.utf8)
        if ["OB", "OW", "SQ", "UN", "UT"].contains(vr) { return out + [0, 0] + w32(length) }
        return out + w16(UInt16(length))
    }

    /// Appends an element, padding its value to even length.
    mutating func element(_ group: UInt16, _ element: UInt16, vr: String, _ value: [UInt8]) {
        var v = value
        if v.count % 2 == 1 { v.append(vr == "UI" || vr == "OB" ? 0 : 0x20) }
        body += header(group, element, vr: vr, length: UInt32(v.count)) + v
    }

    mutating func string(_ group: UInt16, _ element: UInt16, vr: String, _ s: String) {
        self.element(group, element, vr: vr, Array(s.utf8))
    }

    mutating func us(_ group: UInt16, _ element: UInt16, _ v: UInt16) {
        self.element(group, element, vr: "US", w16(v))
    }

    /// An undefined-length sequence of undefined-length items, each item's elements given as bytes.
    mutating func sequence(_ group: UInt16, _ element: UInt16, items: [[UInt8]]) {
        body += header(group, element, vr: "SQ", length: 0xFFFF_FFFF)
        for item in items {
            body += w16(0xFFFE) + w16(0xE000) + w32(0xFFFF_FFFF) + item
            body += w16(0xFFFE) + w16(0xE00D) + w32(0)
        }
        body += w16(0xFFFE) + w16(0xE0DD) + w32(0)
    }

    /// Native pixel data.
    mutating func nativePixels(_ bytes: [UInt8], vr: String = "OW") {
        element(0x7FE0, 0x0010, vr: vr, bytes)
    }

    /// Encapsulated pixel data: a Basic Offset Table (maybe empty) and fragments.
    mutating func encapsulatedPixels(offsets: [UInt32], fragments: [[UInt8]]) {
        body += header(0x7FE0, 0x0010, vr: "OB", length: 0xFFFF_FFFF)
        body += w16(0xFFFE) + w16(0xE000) + w32(UInt32(offsets.count * 4)) + offsets.flatMap(w32)
        for var fragment in fragments {
            if fragment.count % 2 == 1 { fragment.append(0) }
            body += w16(0xFFFE) + w16(0xE000) + w32(UInt32(fragment.count)) + fragment
        }
        body += w16(0xFFFE) + w16(0xE0DD) + w32(0)
    }

    /// Appends raw bytes.
    mutating func raw(_ bytes: [UInt8]) { body += bytes }

    /// The whole file: preamble, "DICM", file meta (explicit VR LE), dataset.
    func fileBytes(sopInstanceUID: String = "1.2.3.4.5", sopClassUID: String = "1.2.840.10008.5.1.4.1.1.12.1") -> Data {
        var meta = DICOMTestWriter(transferSyntax: Self.explicitLittle)
        meta.element(0x0002, 0x0001, vr: "OB", [0, 1])
        meta.string(0x0002, 0x0002, vr: "UI", sopClassUID)
        meta.string(0x0002, 0x0003, vr: "UI", sopInstanceUID)
        meta.string(0x0002, 0x0010, vr: "UI", transferSyntax)
        var out = [UInt8](repeating: 0, count: 128) + Array("DICM".utf8)
        out += meta.header(0x0002, 0x0000, vr: "UL", length: 4) + Self.le32(UInt32(meta.body.count)) + meta.body
        return Data(out + body)
    }
}

/// The synthetic images of the ingest tests.
enum SyntheticDICOM {
    /// An XA image with a patient name, a nested undefined-length sequence before the pixels,
    /// and the given pixel module; `pixels` are the raw Pixel Data bytes.
    static func image(transferSyntax: String = DICOMTestWriter.explicitLittle, rows: Int, columns: Int, frames: Int?,
                      bitsAllocated: Int = 8, bitsStored: Int? = nil, highBit: Int? = nil, signed: Bool = false,
                      photometric: String = "MONOCHROME2", modality: String = "XA", sopInstanceUID: String = "1.2.3.4.5",
                      patientName: String = "Doe^Jane", frameTime: String? = "40",
                      magnification: String? = "1.25", distances: (String, String)? = nil,
                      pixels: (inout DICOMTestWriter) -> Void) -> Data {
        var w = DICOMTestWriter(transferSyntax: transferSyntax)
        w.string(0x0008, 0x0016, vr: "UI", "1.2.840.10008.5.1.4.1.1.12.1")
        w.string(0x0008, 0x0018, vr: "UI", sopInstanceUID)
        w.string(0x0008, 0x0060, vr: "CS", modality)
        // Referenced Image Sequence holding an item with a nested sequence: must be skipped.
        var inner = DICOMTestWriter(transferSyntax: transferSyntax)
        inner.string(0x0008, 0x1150, vr: "UI", "1.2.840.10008.5.1.4.1.1.12.1")
        var deepest = DICOMTestWriter(transferSyntax: transferSyntax)
        deepest.string(0x0028, 0x0010, vr: "LO", "decoy")  // a Rows tag inside a sequence must not count
        inner.sequence(0x0008, 0x9121, items: [deepest.body, []])
        w.sequence(0x0008, 0x1140, items: [inner.body])
        w.string(0x0010, 0x0010, vr: "PN", patientName)
        w.string(0x0010, 0x0020, vr: "LO", "PID-\(patientName)")
        if let frameTime { w.string(0x0018, 0x1063, vr: "DS", frameTime) }
        if let (sid, sod) = distances {
            w.string(0x0018, 0x1110, vr: "DS", sid)
            w.string(0x0018, 0x1111, vr: "DS", sod)
        }
        if let magnification { w.string(0x0018, 0x1114, vr: "DS", magnification) }
        w.string(0x0018, 0x1164, vr: "DS", "0.2\\0.25")
        w.us(0x0028, 0x0002, 1)
        w.string(0x0028, 0x0004, vr: "CS", photometric)
        if let frames { w.string(0x0028, 0x0008, vr: "IS", String(frames)) }
        w.us(0x0028, 0x0010, UInt16(rows))
        w.us(0x0028, 0x0011, UInt16(columns))
        w.us(0x0028, 0x0100, UInt16(bitsAllocated))
        w.us(0x0028, 0x0101, UInt16(bitsStored ?? bitsAllocated))
        w.us(0x0028, 0x0102, UInt16(highBit ?? ((bitsStored ?? bitsAllocated) - 1)))
        w.us(0x0028, 0x0103, signed ? 1 : 0)
        pixels(&w)
        return w.fileBytes(sopInstanceUID: sopInstanceUID)
    }
}
