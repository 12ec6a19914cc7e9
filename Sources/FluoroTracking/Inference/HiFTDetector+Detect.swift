import FluoroShards
import Foundation

/// The detector as automatic initialisation: the whole first frame resized to Sc x Sc (each axis
/// on its own), standardised, the heatmap read out for K landmarks in frame pixels.
public final class HiFTLandmarkDetector: LandmarkDetector {
    let detector: HiFTDetector
    public init(detector: HiFTDetector) {
        precondition(detector.batch == 1, "HiFTLandmarkDetector needs a batch-1 detector")
        self.detector = detector
    }

    public func detect(first: TrackingFrame, count: Int) throws -> [Point2] {
        let S = detector.config.crop
        var input = WorkingScale.resample(first, width: S, height: S)
        input.withUnsafeMutableBufferPointer { CropWindow.standardise($0.baseAddress!, count: S * S) }
        let logits = input.withUnsafeBufferPointer { detector.forward(frames: $0.baseAddress!) }
        let found = HeatmapReadOut.landmarks(logits: logits, height: S, width: S, count: count)
        let sx = Float(first.width) / Float(S), sy = Float(first.height) / Float(S)
        // A landmark not found falls back to the frame centre (the tracker then searches from there).
        return found.map { p in
            p.map { Point2(x: (Float($0.x) + 0.5) * sx, y: (Float($0.y) + 0.5) * sy) } ?? Point2(x: Float(first.width) / 2, y: Float(first.height) / 2)
        }
    }
}
