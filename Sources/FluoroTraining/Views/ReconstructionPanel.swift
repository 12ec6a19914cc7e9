import FluoroPlot
import Foundation

/// The picture of a `Reconstruction`: per clip, five rows of frames — the original, the masked
/// input (hidden tokens darkened and tinted blue, so tube and frame masks show), the
/// reconstruction, the vesselness target and the predicted vesselness. Up to eight frames per
/// row (all of them for short clips, else the first frame of evenly spaced tubelets), each
/// enlarged to at least 96 pixels; pixels share the original clip's gray range.
public enum ReconstructionPanel {
    /// Row names, top to bottom.
    public static let rowNames = ["ORIGINAL", "MASKED", "RECON", "VES TARGET", "VES PRED"]
    static let labelWidth = 72, gap = 2, titleHeight = 24, headerHeight = 14

    /// The panel of `r`, titled with `title`.
    public static func render(_ r: Reconstruction, title: String) -> RGBImage {
        let spec = r.inputs.spec, S = spec.size
        let zoom = max(1, 96 / S), tile = S * zoom
        let frames = shownFrames(frames: spec.frames, tubelet: spec.tubelet)
        let clipHeight = headerHeight + rowNames.count * (tile + gap)
        var image = RGBImage(width: labelWidth + frames.count * (tile + gap) + gap,
                             height: titleHeight + r.inputs.count * clipHeight + gap, fill: .white)
        image.text(title, x: gap + 2, y: 4, scale: 2)
        for k in 0..<r.inputs.count {
            let top = titleHeight + k * clipHeight
            image.text(r.inputs.sequenceIDs[k], x: gap + 2, y: top + 4, .blue)
            for (row, name) in rowNames.enumerated() {
                let y = top + headerHeight + row * (tile + gap)
                image.text(name, x: gap + 2, y: y + tile / 2 - 3)
                for (column, t) in frames.enumerated() {
                    let x = labelWidth + column * (tile + gap)
                    image.paste(self.tile(r, clip: k, frame: t, row: row, zoom: zoom), x: x, y: y)
                }
            }
        }
        return image
    }

    /// Frame indices shown: all when there are at most eight, else the first frame of up to
    /// eight evenly spaced tubelets.
    static func shownFrames(frames: Int, tubelet: Int) -> [Int] {
        if frames <= 8 { return Array(0..<frames) }
        let slots = frames / tubelet, shown = min(8, slots)
        return (0..<shown).map { ($0 * slots / shown) * tubelet }
    }

    /// One frame of one row, enlarged by `zoom`.
    static func tile(_ r: Reconstruction, clip k: Int, frame t: Int, row: Int, zoom: Int) -> RGBImage {
        let spec = r.inputs.spec, S = spec.size, P = spec.pixelsPerClip
        let original = r.inputs.clips[(k * P)..<((k + 1) * P)]
        let low = original.min() ?? 0, high = max(original.max() ?? 1, low + 1e-6)
        let frame = (k * P + t * S * S)..<(k * P + (t + 1) * S * S)
        var image = RGBImage(width: S * zoom, height: S * zoom, fill: .gray)
        let source: [Float]?
        switch row {
        case 0, 1: source = Array(r.inputs.clips[frame])
        case 2: source = r.pixels.map { Array($0[frame]) }
        case 3: source = Array(r.inputs.vesselness[frame])
        default: source = r.vesselness.map { Array($0[frame]) }
        }
        guard let source else {
            image.text("OFF", x: S * zoom / 2 - 8, y: S * zoom / 2 - 3, .white)
            return image
        }
        let (lo, hi): (Float, Float) = row >= 3 ? (0, 1) : (low, high)
        for y in 0..<S {
            for x in 0..<S {
                let v = UInt8(max(0, min(255, ((source[y * S + x] - lo) / (hi - lo) * 255).rounded())))
                var colour = RGB(v, v, v)
                if row == 1 && hidden(r.inputs, clip: k, frame: t, x: x, y: y) {
                    let d = UInt8(Int(v) * 3 / 10)
                    colour = RGB(d, d, d &+ 60)
                }
                image.fillRect(x0: x * zoom, y0: y * zoom, x1: x * zoom + zoom - 1, y1: y * zoom + zoom - 1, colour)
            }
        }
        return image
    }

    /// Whether pixel (x, y) of frame t of clip k lies in a hidden token.
    static func hidden(_ inputs: ReconstructionInputs, clip k: Int, frame t: Int, x: Int, y: Int) -> Bool {
        let spec = inputs.spec, g = spec.patchesPerSide
        let n = ((t / spec.tubelet) * g + y / spec.patch) * g + x / spec.patch
        return inputs.mask[k * spec.tokenCount + n] != 0
    }
}
