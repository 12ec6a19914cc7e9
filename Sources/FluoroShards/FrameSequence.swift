import Foundation

/// How one pixel is stored.
public enum PixelFormat: String, Codable, Sendable {
    /// One byte per pixel.
    case uint8
    /// Two bytes per pixel, little endian.
    case uint16

    /// Bytes per pixel.
    public var bytesPerPixel: Int { self == .uint8 ? 1 : 2 }
}

/// What one sequence (a run) is: everything but its pixels. Never holds a patient's name:
/// `id` is a de-identified identifier (for DICOM, a hash of the SOP Instance UID).
public struct SequenceInfo: Codable, Sendable, Equatable {
    /// De-identified, stable identifier of the run.
    public var id: String
    /// Frames in the run.
    public var frameCount: Int
    /// Frame width and height in pixels.
    public var width: Int
    public var height: Int
    /// Storage of one pixel.
    public var pixelFormat: PixelFormat
    /// Meaningful bits per pixel (e.g. 8, 10, 12, 16); values are in 0 ..< 2^bitsStored.
    public var bitsStored: Int
    /// Time between frames in milliseconds, when known.
    public var frameTimeMs: Double?
    /// Pixel spacing in millimetres (row, column), when known.
    public var pixelSpacingMm: [Double]?
    /// "XA", "RF" or "SYN" (synthetic).
    public var modality: String
    /// Where it came from: "dicom", "npy" or "synth", with detail (e.g. transfer syntax).
    public var source: String

    public init(id: String, frameCount: Int, width: Int, height: Int, pixelFormat: PixelFormat,
                bitsStored: Int, frameTimeMs: Double? = nil, pixelSpacingMm: [Double]? = nil,
                modality: String, source: String) {
        self.id = id
        self.frameCount = frameCount
        self.width = width
        self.height = height
        self.pixelFormat = pixelFormat
        self.bitsStored = bitsStored
        self.frameTimeMs = frameTimeMs
        self.pixelSpacingMm = pixelSpacingMm
        self.modality = modality
        self.source = source
    }

    /// Bytes of one frame of pixels.
    public var frameBytes: Int { width * height * pixelFormat.bytesPerPixel }
}

/// Per-frame image layers a sequence may carry, each UInt8 [T, H, W].
public enum LayerKind: String, Codable, Sendable, CaseIterable {
    /// Weak vesselness label, 0...255 for [0, 1].
    case vesselness
    /// Binary vessel mask (0 or 255).
    case vesselMask = "vessel_mask"
    /// Binary catheter-body mask (0 or 255).
    case catheterMask = "catheter_mask"
}

/// A point in pixel coordinates of the full frame (x to the right, y down; pixel centres at .5).
public struct Point2: Codable, Sendable, Equatable {
    public var x: Float
    public var y: Float
    public init(x: Float, y: Float) { self.x = x; self.y = y }
}

/// Landmark annotations of one frame.
public struct FrameAnnotation: Codable, Sendable, Equatable {
    /// The balloon's two radiopaque markers (empty when there is no balloon in view).
    public var markers: [Point2]
    /// The catheter tip, when one is in view.
    public var tip: Point2?
    /// True when a landmark is covered by contrast or another device.
    public var occluded: Bool

    public init(markers: [Point2] = [], tip: Point2? = nil, occluded: Bool = false) {
        self.markers = markers
        self.tip = tip
        self.occluded = occluded
    }
}

/// One run in memory: its description, its pixels [T, H, W] (row-major, little endian) and any
/// optional layers and annotations. This is what ingest and the simulator produce and what the
/// shard writer stores.
public struct FrameSequence: Sendable {
    public var info: SequenceInfo
    /// Raw pixels, `info.frameCount * info.frameBytes` bytes.
    public var pixels: Data
    /// Optional layers, each `frameCount * width * height` bytes.
    public var layers: [LayerKind: Data]
    /// Per-frame landmarks (empty, or exactly `frameCount` entries).
    public var annotations: [FrameAnnotation]

    public init(info: SequenceInfo, pixels: Data, layers: [LayerKind: Data] = [:], annotations: [FrameAnnotation] = []) {
        self.info = info
        self.pixels = pixels
        self.layers = layers
        self.annotations = annotations
    }

    /// Checks that every buffer has the size `info` implies; returns a description of the first mismatch.
    public func validationProblem() -> String? {
        let t = info.frameCount, h = info.height, w = info.width
        if t <= 0 || h <= 0 || w <= 0 { return "sequence \(info.id): empty shape \(t)x\(h)x\(w)" }
        if pixels.count != t * info.frameBytes {
            return "sequence \(info.id): \(pixels.count) pixel bytes, expected \(t * info.frameBytes) for \(t)x\(h)x\(w) \(info.pixelFormat.rawValue)"
        }
        for (kind, data) in layers where data.count != t * h * w {
            return "sequence \(info.id): layer \(kind.rawValue) has \(data.count) bytes, expected \(t * h * w)"
        }
        if !annotations.isEmpty && annotations.count != t {
            return "sequence \(info.id): \(annotations.count) annotations for \(t) frames"
        }
        return nil
    }
}
