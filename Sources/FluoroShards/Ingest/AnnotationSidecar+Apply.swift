import Foundation

extension AnnotationSidecar {
    /// `sequence` with these landmarks stored as the simulator stores its labels: one
    /// `FrameAnnotation` per frame (unlisted frames have none) and, when any entry names a mask,
    /// a `catheter_mask` layer (0 or 255; frames without a mask are all 0). Throws when an entry
    /// does not fit the run (frame index, a point outside the frame, a bad mask).
    public func applied(to sequence: FrameSequence) throws -> FrameSequence {
        let info = sequence.info
        var annotations = [FrameAnnotation](repeating: FrameAnnotation(), count: info.frameCount)
        var seen = Set<Int>()
        var masks: [(frame: Int, url: URL, place: String)] = []
        for entry in entries {
            try check(entry, info: info)
            guard seen.insert(entry.frame).inserted else {
                throw AnnotationError.duplicateFrame(sidecar: file.path, place: entry.place, frame: entry.frame)
            }
            annotations[entry.frame] = FrameAnnotation(markers: entry.markers, tip: entry.tip, occluded: entry.occluded)
            if let mask = entry.catheterMask { masks.append((entry.frame, mask, entry.place)) }
        }
        var out = sequence
        out.annotations = annotations
        if !masks.isEmpty {
            let plane = info.width * info.height
            var layer = Data(count: info.frameCount * plane)
            for mask in masks {
                let bytes = try Self.readMask(mask.url, width: info.width, height: info.height, sidecar: file.path, place: mask.place)
                layer.replaceSubrange((mask.frame * plane)..<((mask.frame + 1) * plane), with: bytes)
            }
            out.layers[.catheterMask] = layer
        }
        return out
    }

    /// Checks an entry's frame index, marker count and that every point lies in the frame.
    private func check(_ entry: Entry, info: SequenceInfo) throws {
        guard (0..<info.frameCount).contains(entry.frame) else {
            throw AnnotationError.frameOutOfRange(sidecar: file.path, place: entry.place, frame: entry.frame, frameCount: info.frameCount)
        }
        guard entry.markers.count <= 2 else {
            throw AnnotationError.malformedJSON(sidecar: file.path, detail: "\(entry.place): \(entry.markers.count) markers, a balloon has at most 2")
        }
        let points = (entry.tip.map { [("tip", $0)] } ?? []) + entry.markers.enumerated().map { ("marker \($0 + 1)", $1) }
        for (what, p) in points where !(p.x >= 0 && p.x <= Float(info.width) && p.y >= 0 && p.y <= Float(info.height)) {
            throw AnnotationError.pointOutsideFrame(sidecar: file.path, place: entry.place, what: what, x: Double(p.x), y: Double(p.y),
                                                    width: info.width, height: info.height)
        }
    }

    /// A uint8 `.npy` mask [H, W] (or [1, H, W]) as 0/255 bytes; any nonzero value counts as catheter.
    static func readMask(_ url: URL, width: Int, height: Int, sidecar: String, place: String) throws -> Data {
        func fail(_ detail: String) -> AnnotationError { .badMask(sidecar: sidecar, place: place, mask: url.path, detail: detail) }
        guard let data = try? Data(contentsOf: url) else { throw fail("cannot read it; check the path (relative paths start at the sidecar's directory)") }
        guard ClinicalIngest.format(of: data) == .numpy else {
            throw fail("not a NumPy .npy array (PNG masks are not decoded); save it with `np.save(path, (mask > 0).astype(np.uint8))`")
        }
        let array: FrameSequence
        do { array = try NumPyArray.read(data, file: url.path) } catch { throw fail("\(error)") }
        guard array.info.pixelFormat == .uint8, array.info.source.hasSuffix("u1") else {
            throw fail("dtype \(array.info.source.dropFirst(4)) is not uint8; save `(mask > 0).astype(np.uint8)`")
        }
        guard array.info.frameCount == 1, array.info.width == width, array.info.height == height else {
            throw fail("shape \(array.info.frameCount)x\(array.info.height)x\(array.info.width), expected [\(height), \(width)] like the frame")
        }
        return Data(array.pixels.map { $0 == 0 ? 0 : 255 })
    }
}
