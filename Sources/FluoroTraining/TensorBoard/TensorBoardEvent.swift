import Foundation

/// One TensorBoard `Event` (tensorflow/core/util/event.proto), in the subset Fluoro writes and
/// reads: wall_time (1, double), step (2, int64), and one of file_version (3, string),
/// summary (5: Summary {value (1, repeated)}) or session_log (7: SessionLog {status (1), START = 1}).
public struct TensorBoardEvent: Equatable {
    /// A PNG picture: Summary.Image {height (1), width (2), colorspace (3), encoded_image_string (4)}.
    public struct Image: Equatable {
        public var width: Int
        public var height: Int
        /// 3 = RGB.
        public var colorspace: Int
        /// The PNG file's bytes.
        public var png: Data
        public init(width: Int, height: Int, colorspace: Int = 3, png: Data) {
            self.width = width; self.height = height; self.colorspace = colorspace; self.png = png
        }
    }

    /// A Summary.Value {tag (1), simple_value (2, float) or image (4)}.
    public enum Value: Equatable {
        case scalar(tag: String, value: Float)
        case image(tag: String, Image)

        /// The value's tag.
        public var tag: String {
            switch self {
            case .scalar(let tag, _), .image(let tag, _): return tag
            }
        }
    }

    /// What the event carries.
    public enum Payload: Equatable {
        /// The first record of every file: "brain.Event:2".
        case fileVersion(String)
        case summary([Value])
        /// SessionLog START: TensorBoard drops the events at or after this step written earlier
        /// (a resumed run's repeat of the steps lost with the previous process).
        case sessionStart
    }

    /// The version string TensorBoard expects in the first record.
    public static let fileVersion = "brain.Event:2"

    public var wallTime: Double
    public var step: Int64
    public var payload: Payload

    public init(wallTime: Double, step: Int64, payload: Payload) {
        self.wallTime = wallTime; self.step = step; self.payload = payload
    }

    /// The event's protobuf bytes.
    public func encoded() -> Data {
        var w = ProtobufWriter()
        w.double(1, wallTime)
        if step != 0 { w.int64(2, step) }
        switch payload {
        case .fileVersion(let version): w.string(3, version)
        case .summary(let values): w.message(5) { summary in values.forEach { Self.encode($0, into: &summary) } }
        case .sessionStart: w.message(7) { $0.int64(1, 1) }
        }
        return w.data
    }

    /// One Summary.Value as field 1 of a Summary.
    static func encode(_ value: Value, into summary: inout ProtobufWriter) {
        summary.message(1) { v in
            switch value {
            case let .scalar(tag, x):
                v.string(1, tag)
                v.float(2, x)
            case let .image(tag, image):
                v.string(1, tag)
                v.message(4) { i in
                    i.int64(1, Int64(image.height))
                    i.int64(2, Int64(image.width))
                    i.int64(3, Int64(image.colorspace))
                    i.bytes(4, image.png)
                }
            }
        }
    }
}
