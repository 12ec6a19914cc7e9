import Foundation

/// Why a landmark sidecar (`fluoro pack --annotations`) could not be used. Every case names the
/// sidecar file, the place in it (a CSV line or a JSON frame entry) and what to do.
public enum AnnotationError: Error, CustomStringConvertible, Equatable {
    /// The sidecar could not be read, or is neither `.json` nor `.csv`.
    case unreadable(sidecar: String, reason: String)
    /// The JSON does not have the documented shape.
    case malformedJSON(sidecar: String, detail: String)
    /// A CSV row (1-based `line`) does not parse.
    case malformedRow(sidecar: String, line: Int, detail: String)
    /// An entry's frame index is not a frame of the run.
    case frameOutOfRange(sidecar: String, place: String, frame: Int, frameCount: Int)
    /// The same frame is annotated twice.
    case duplicateFrame(sidecar: String, place: String, frame: Int)
    /// A landmark lies outside the stored frame.
    case pointOutsideFrame(sidecar: String, place: String, what: String, x: Double, y: Double, width: Int, height: Int)
    /// A catheter mask file cannot be used (format, dtype, shape).
    case badMask(sidecar: String, place: String, mask: String, detail: String)
    /// The sidecar(s) given do not fit the inputs (e.g. one file for several inputs).
    case ambiguous(detail: String)

    public var description: String {
        switch self {
        case let .unreadable(sidecar, reason):
            return "\(sidecar): cannot read the annotation sidecar (\(reason)); give a readable .json or .csv file (format: shards/FORMAT.md §8)"
        case let .malformedJSON(sidecar, detail):
            return "\(sidecar): malformed annotation JSON: \(detail); expected {\"frames\": [{\"frame\": 0, \"tip\": [x, y], \"markers\": [[x, y], [x, y]], \"occluded\": false}]} (shards/FORMAT.md §8)"
        case let .malformedRow(sidecar, line, detail):
            return "\(sidecar) line \(line): \(detail); rows are frame,tip_x,tip_y,marker1_x,marker1_y,marker2_x,marker2_y,occluded with empty cells for absent values (shards/FORMAT.md §8)"
        case let .frameOutOfRange(sidecar, place, frame, frameCount):
            return "\(sidecar) \(place): frame \(frame) is not in the run (frames 0..<\(frameCount)); frame indices are 0-based, fix or drop the entry"
        case let .duplicateFrame(sidecar, place, frame):
            return "\(sidecar) \(place): frame \(frame) is annotated twice; keep one entry per frame"
        case let .pointOutsideFrame(sidecar, place, what, x, y, width, height):
            return "\(sidecar) \(place): \(what) (\(x), \(y)) lies outside the \(width)x\(height) frame; coordinates are full-frame pixels of the stored frame (0...\(width), 0...\(height)), leave the cells empty for an absent landmark"
        case let .badMask(sidecar, place, mask, detail):
            return "\(sidecar) \(place): catheter mask \(mask): \(detail)"
        case let .ambiguous(detail):
            return detail
        }
    }
}
