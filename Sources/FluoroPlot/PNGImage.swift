import CZlib
import Foundation

/// Errors writing a PNG, naming the file.
public enum PNGError: Error, CustomStringConvertible {
    case compression(code: Int32)
    case write(path: String, reason: String)

    public var description: String {
        switch self {
        case .compression(let code): return "PNG: zlib's compress2 failed (code \(code))"
        case let .write(path, reason): return "cannot write PNG \(path): \(reason)"
        }
    }
}

/// An 8-bit RGB image in memory, encoded as PNG through zlib (deflate and CRC-32).
public struct RGBImage: Sendable {
    public let width: Int
    public let height: Int
    /// Row-major RGB bytes, [height, width, 3].
    public var pixels: [UInt8]

    /// A `width` x `height` image filled with one colour.
    public init(width: Int, height: Int, fill: RGB = .white) {
        precondition(width > 0 && height > 0, "RGBImage: empty size \(width)x\(height)")
        self.width = width; self.height = height
        pixels = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) { pixels[3 * i] = fill.r; pixels[3 * i + 1] = fill.g; pixels[3 * i + 2] = fill.b }
    }

    /// A gray image of `values` [height, width], mapped linearly from `low...high` to 0...255 (clamped).
    public init(gray values: [Float], width: Int, height: Int, low: Float = 0, high: Float = 1) {
        self.init(width: width, height: height)
        let scale = 255 / max(high - low, 1e-12)
        for i in 0..<(width * height) {
            let v = UInt8(max(0, min(255, ((values[i] - low) * scale).rounded())))
            pixels[3 * i] = v; pixels[3 * i + 1] = v; pixels[3 * i + 2] = v
        }
    }

    /// The colour at (x, y).
    public subscript(x: Int, y: Int) -> RGB {
        get { let i = 3 * (y * width + x); return RGB(pixels[i], pixels[i + 1], pixels[i + 2]) }
        set { let i = 3 * (y * width + x); pixels[i] = newValue.r; pixels[i + 1] = newValue.g; pixels[i + 2] = newValue.b }
    }

    /// The PNG file's bytes (colour type 2, 8 bits, filter 0 on every row, deflate level 6).
    public func pngData() throws -> Data {
        var raw = [UInt8](); raw.reserveCapacity(height * (1 + 3 * width))
        for y in 0..<height {
            raw.append(0)
            raw.append(contentsOf: pixels[(3 * y * width)..<(3 * (y + 1) * width)])
        }
        var bound = compressBound(uLong(raw.count))
        var compressed = [UInt8](repeating: 0, count: Int(bound))
        let code = compress2(&compressed, &bound, raw, uLong(raw.count), 6)
        guard code == Z_OK else { throw PNGError.compression(code: code) }
        compressed.removeSubrange(Int(bound)...)
        var out = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        var header = Data()
        header.appendBigEndian(UInt32(width)); header.appendBigEndian(UInt32(height))
        header.append(contentsOf: [8, 2, 0, 0, 0])
        Self.chunk("IHDR", header, into: &out)
        Self.chunk("IDAT", Data(compressed), into: &out)
        Self.chunk("IEND", Data(), into: &out)
        return out
    }

    /// Writes the PNG to `url`.
    public func write(to url: URL) throws {
        let data = try pngData()
        do { try data.write(to: url, options: .atomic) } catch {
            throw PNGError.write(path: url.path, reason: error.localizedDescription)
        }
    }

    static func chunk(_ type: String, _ body: Data, into out: inout Data) {
        out.appendBigEndian(UInt32(body.count))
        var typed = Data(type.utf8); typed.append(body)
        out.append(typed)
        let crc = typed.withUnsafeBytes { crc32(0, $0.bindMemory(to: Bytef.self).baseAddress, uInt($0.count)) }
        out.appendBigEndian(UInt32(crc))
    }
}

/// An 8-bit RGB colour.
public struct RGB: Sendable, Equatable {
    public var r, g, b: UInt8
    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) { self.r = r; self.g = g; self.b = b }
    public static let white = RGB(255, 255, 255), black = RGB(0, 0, 0)
    public static let red = RGB(230, 40, 40), green = RGB(40, 200, 60), blue = RGB(40, 90, 230)
    public static let yellow = RGB(240, 200, 30), gray = RGB(128, 128, 128)
}

extension Data {
    mutating func appendBigEndian(_ v: UInt32) {
        append(contentsOf: [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)])
    }
}
