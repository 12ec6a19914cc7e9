import Foundation

/// Landmark annotations of one clinical run, read from a sidecar file next to it (`fluoro pack
/// --annotations`), before they are checked against the run. Two formats (shards/FORMAT.md §8):
///
/// - JSON: `{"frames": [{"frame": 0, "tip": [x, y], "markers": [[x, y], [x, y]], "occluded": false,
///   "catheter_mask": "masks/f0.npy"}]}`; every key but `frame` is optional.
/// - CSV: a header row naming the columns `frame,tip_x,tip_y,marker1_x,marker1_y,marker2_x,marker2_y,occluded`
///   (any order; an optional `catheter_mask` column), then one row per frame, empty cells for absent values.
///
/// Coordinates are full-frame pixels of the stored frame (x right, y down). Frames not listed have
/// no landmarks. Mask paths are relative to the sidecar's directory.
public struct AnnotationSidecar: Sendable, Equatable {
    /// One annotated frame.
    public struct Entry: Sendable, Equatable {
        /// 0-based frame index in the run.
        public var frame: Int
        /// Where it is in the sidecar, for errors ("line 4", "frames[2]").
        public var place: String
        public var tip: Point2?
        public var markers: [Point2]
        public var occluded: Bool
        /// A uint8 [H, W] `.npy` mask of the catheter body, resolved against the sidecar's directory.
        public var catheterMask: URL?
    }

    /// The sidecar file.
    public var file: URL
    /// Its entries in file order.
    public var entries: [Entry]

    /// Reads a `.json` or `.csv` sidecar (by extension).
    public static func read(_ url: URL) throws -> AnnotationSidecar {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw AnnotationError.unreadable(sidecar: url.path, reason: (error as NSError).localizedDescription)
        }
        switch url.pathExtension.lowercased() {
        case "json": return AnnotationSidecar(file: url, entries: try parseJSON(text, file: url))
        case "csv": return AnnotationSidecar(file: url, entries: try parseCSV(text, file: url))
        default: throw AnnotationError.unreadable(sidecar: url.path, reason: "the extension is not .json or .csv")
        }
    }

    // MARK: JSON

    private struct JSONFile: Decodable { var frames: [JSONEntry] }
    private struct JSONEntry: Decodable {
        var frame: Int
        var tip: [Double]?
        var markers: [[Double]]?
        var occluded: Bool?
        var catheterMask: String?
        enum CodingKeys: String, CodingKey { case frame, tip, markers, occluded, catheterMask = "catheter_mask" }
    }

    static func parseJSON(_ text: String, file: URL) throws -> [Entry] {
        let decoded: JSONFile
        do { decoded = try JSONDecoder().decode(JSONFile.self, from: Data(text.utf8)) } catch let DecodingError.keyNotFound(key, context) {
            throw AnnotationError.malformedJSON(sidecar: file.path, detail: "\(path(context.codingPath)) has no \"\(key.stringValue)\"")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw AnnotationError.malformedJSON(sidecar: file.path, detail: "\(path(context.codingPath)): \(context.debugDescription)")
        } catch {
            throw AnnotationError.malformedJSON(sidecar: file.path, detail: "not valid JSON (\(error))")
        }
        return try decoded.frames.enumerated().map { i, e in
            let place = "frames[\(i)] (frame \(e.frame))"
            func point(_ values: [Double], _ what: String) throws -> Point2 {
                guard values.count == 2 else {
                    throw AnnotationError.malformedJSON(sidecar: file.path, detail: "\(place): \(what) has \(values.count) numbers, expected [x, y]")
                }
                return Point2(x: Float(values[0]), y: Float(values[1]))
            }
            let markers = try (e.markers ?? []).enumerated().map { try point($1, "marker \($0 + 1)") }
            return Entry(frame: e.frame, place: place, tip: try e.tip.map { try point($0, "tip") }, markers: markers,
                         occluded: e.occluded ?? false, catheterMask: e.catheterMask.map { maskURL($0, sidecar: file) })
        }
    }

    private static func path(_ keys: [CodingKey]) -> String {
        keys.isEmpty ? "the top level" : keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
    }

    static func maskURL(_ path: String, sidecar: URL) -> URL {
        path.hasPrefix("/") ? URL(fileURLWithPath: path) : sidecar.deletingLastPathComponent().appendingPathComponent(path)
    }

    // MARK: CSV

    static let csvColumns = ["frame", "tip_x", "tip_y", "marker1_x", "marker1_y", "marker2_x", "marker2_y", "occluded"]

    static func parseCSV(_ text: String, file: URL) throws -> [Entry] {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces.union(.init(charactersIn: "\r"))) }
        guard let header = lines.first, !header.isEmpty else {
            throw AnnotationError.malformedRow(sidecar: file.path, line: 1, detail: "no header row")
        }
        let names = header.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        let missing = csvColumns.filter { !names.contains($0) }
        guard missing.isEmpty else {
            throw AnnotationError.malformedRow(sidecar: file.path, line: 1, detail: "the header lacks the column(s) \(missing.joined(separator: ", "))")
        }
        var entries: [Entry] = []
        for (i, line) in lines.enumerated().dropFirst() where !line.isEmpty && !line.hasPrefix("#") {
            entries.append(try parseRow(line, number: i + 1, names: names, file: file))
        }
        return entries
    }

    private static func parseRow(_ line: String, number: Int, names: [String], file: URL) throws -> Entry {
        let cells = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        func fail(_ detail: String) -> AnnotationError { .malformedRow(sidecar: file.path, line: number, detail: detail) }
        guard cells.count == names.count else { throw fail("\(cells.count) cells for \(names.count) columns") }
        let row = Dictionary(zip(names, cells), uniquingKeysWith: { first, _ in first })
        func value(_ column: String) throws -> Double? {
            guard let cell = row[column], !cell.isEmpty else { return nil }
            guard let value = Double(cell), value.isFinite else { throw fail("\(column) \"\(cell)\" is not a number") }
            return value
        }
        func point(_ x: String, _ y: String) throws -> Point2? {
            switch (try value(x), try value(y)) {
            case (nil, nil): return nil
            case let (x?, y?): return Point2(x: Float(x), y: Float(y))
            default: throw fail("\(x) and \(y) must both be given or both be empty")
            }
        }
        guard let frameCell = row["frame"], let frame = Int(frameCell) else { throw fail("frame \"\(row["frame"] ?? "")\" is not an integer") }
        let occluded: Bool
        switch (row["occluded"] ?? "").lowercased() {
        case "", "0", "false", "no": occluded = false
        case "1", "true", "yes": occluded = true
        case let other: throw fail("occluded \"\(other)\" is not 0/1/true/false")
        }
        let markers = [try point("marker1_x", "marker1_y"), try point("marker2_x", "marker2_y")].compactMap { $0 }
        let mask = row["catheter_mask"].flatMap { $0.isEmpty ? nil : maskURL($0, sidecar: file) }
        return Entry(frame: frame, place: "line \(number) (frame \(frame))", tip: try point("tip_x", "tip_y"),
                     markers: markers, occluded: occluded, catheterMask: mask)
    }
}
