import Foundation

/// Errors decoding an event record, saying which part.
public enum TensorBoardEventError: Error, CustomStringConvertible, Equatable {
    case unexpected(String)

    public var description: String {
        switch self {
        case .unexpected(let what): return "TensorBoard event: \(what); the file was not written by this encoder's subset"
        }
    }
}

extension TensorBoardEvent {
    /// Decodes an event of the subset `encoded()` writes (other fields are skipped).
    public init(decoding data: Data) throws {
        var wallTime = 0.0, step: Int64 = 0
        var payload: Payload?
        for (field, value) in try ProtobufReader.fields(data) {
            switch (field, value) {
            case (1, .fixed64(let bits)): wallTime = Double(bitPattern: bits)
            case (2, .varint(let v)): step = Int64(bitPattern: v)
            case (3, .bytes(let s)): payload = .fileVersion(String(decoding: s, as: UTF8.self))
            case (5, .bytes(let summary)): payload = .summary(try Self.values(summary))
            case (7, .bytes): payload = .sessionStart
            default: continue
            }
        }
        guard let payload else { throw TensorBoardEventError.unexpected("no file_version, summary or session_log") }
        self.init(wallTime: wallTime, step: step, payload: payload)
    }

    /// The values of a Summary message.
    static func values(_ summary: Data) throws -> [Value] {
        try ProtobufReader.fields(summary).compactMap { field, value -> Value? in
            guard field == 1, case .bytes(let bytes) = value else { return nil }
            var tag = "", scalar: Float?, image: Image?
            for (f, v) in try ProtobufReader.fields(bytes) {
                switch (f, v) {
                case (1, .bytes(let s)): tag = String(decoding: s, as: UTF8.self)
                case (2, .fixed32(let bits)): scalar = Float(bitPattern: bits)
                case (4, .bytes(let i)): image = try Self.image(i)
                default: continue
                }
            }
            if let image { return .image(tag: tag, image) }
            guard let scalar else { throw TensorBoardEventError.unexpected("value \(tag) is neither simple_value nor image") }
            return .scalar(tag: tag, value: scalar)
        }
    }

    /// A Summary.Image message.
    static func image(_ bytes: Data) throws -> Image {
        var image = Image(width: 0, height: 0, colorspace: 0, png: Data())
        for (f, v) in try ProtobufReader.fields(bytes) {
            switch (f, v) {
            case (1, .varint(let h)): image.height = Int(h)
            case (2, .varint(let w)): image.width = Int(w)
            case (3, .varint(let c)): image.colorspace = Int(c)
            case (4, .bytes(let png)): image.png = png
            default: continue
            }
        }
        return image
    }
}
