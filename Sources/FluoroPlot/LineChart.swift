import Foundation

/// A line chart rendered to an `RGBImage`: a title, axes with numeric ticks and labels, one
/// polyline per series and a legend. Small and fixed-style on purpose (reports, not publication).
public struct LineChart {
    /// One curve: points in data units, drawn in `colour` and named in the legend.
    public struct Series {
        public var name: String
        public var points: [(x: Double, y: Double)]
        public var colour: RGB
        public init(name: String, points: [(x: Double, y: Double)], colour: RGB) {
            self.name = name; self.points = points; self.colour = colour
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series] = []
    /// Axis ranges in data units; nil fits the data.
    public var xRange: ClosedRange<Double>?
    public var yRange: ClosedRange<Double>?
    /// Image size in pixels.
    public var width = 640, height = 420

    /// Margins in pixels around the plot area: left, right, top, bottom.
    static let margins = (left: 58, right: 16, top: 28, bottom: 40)

    public init(title: String, xLabel: String, yLabel: String) {
        self.title = title; self.xLabel = xLabel; self.yLabel = yLabel
    }

    /// The plot area in image pixels (inclusive corners).
    public var plotArea: (x0: Int, y0: Int, x1: Int, y1: Int) {
        (Self.margins.left, Self.margins.top, width - 1 - Self.margins.right, height - 1 - Self.margins.bottom)
    }

    /// The ranges in force (given, or the data's, widened when flat).
    public var ranges: (x: ClosedRange<Double>, y: ClosedRange<Double>) {
        let xs = series.flatMap { $0.points.map(\.x) }, ys = series.flatMap { $0.points.map(\.y) }
        return (xRange ?? Self.fit(xs), yRange ?? Self.fit(ys))
    }

    /// The image pixel of data point (x, y).
    public func pixel(x: Double, y: Double) -> (x: Int, y: Int) {
        let (rx, ry) = ranges, a = plotArea
        let fx = (x - rx.lowerBound) / (rx.upperBound - rx.lowerBound)
        let fy = (y - ry.lowerBound) / (ry.upperBound - ry.lowerBound)
        return (a.x0 + Int((fx * Double(a.x1 - a.x0)).rounded()), a.y1 - Int((fy * Double(a.y1 - a.y0)).rounded()))
    }

    /// The chart as an image.
    public func render() -> RGBImage {
        var image = RGBImage(width: width, height: height, fill: .white)
        drawAxes(&image)
        let a = plotArea
        for s in series {
            let pixels = s.points.map { pixel(x: $0.x, y: $0.y) }
                .map { (x: min(max($0.x, a.x0), a.x1), y: min(max($0.y, a.y0), a.y1)) }
            for (p, q) in zip(pixels, pixels.dropFirst()) { image.line(from: p.x, p.y, to: q.x, q.y, s.colour, thickness: 2) }
            if pixels.count == 1 { image.fillRect(x0: pixels[0].x - 1, y0: pixels[0].y - 1, x1: pixels[0].x + 1, y1: pixels[0].y + 1, s.colour) }
        }
        drawLegend(&image)
        return image
    }

    /// Frame, ticks with labels, axis titles and the chart title.
    private func drawAxes(_ image: inout RGBImage) {
        let a = plotArea, (rx, ry) = ranges
        let lightGray = RGB(225, 225, 225)
        for v in Self.ticks(rx) {
            let p = pixel(x: v, y: ry.lowerBound)
            image.line(from: p.x, a.y0, to: p.x, a.y1, lightGray)
            image.line(from: p.x, a.y1, to: p.x, a.y1 + 4, .black)
            let label = Self.format(v)
            image.text(label, x: p.x - BitmapFont.width(of: label) / 2, y: a.y1 + 7)
        }
        for v in Self.ticks(ry) {
            let p = pixel(x: rx.lowerBound, y: v)
            image.line(from: a.x0, p.y, to: a.x1, p.y, lightGray)
            image.line(from: a.x0 - 4, p.y, to: a.x0, p.y, .black)
            let label = Self.format(v)
            image.text(label, x: a.x0 - 7 - BitmapFont.width(of: label), y: p.y - 3)
        }
        image.strokeRect(x0: a.x0, y0: a.y0, x1: a.x1, y1: a.y1, .black)
        image.text(xLabel, x: (a.x0 + a.x1 - BitmapFont.width(of: xLabel)) / 2, y: height - 12)
        image.verticalText(yLabel, x: 4, y: (a.y0 + a.y1 + BitmapFont.width(of: yLabel)) / 2)
        image.text(title, x: (width - 2 * BitmapFont.width(of: title)) / 2, y: 6, scale: 2)
    }

    /// Series names with colour swatches, top-right inside the plot area.
    private func drawLegend(_ image: inout RGBImage) {
        guard !series.isEmpty else { return }
        let a = plotArea
        let textWidth = series.map { BitmapFont.width(of: $0.name) }.max() ?? 0
        let x0 = a.x1 - textWidth - 30, y0 = a.y0 + 6
        image.fillRect(x0: x0 - 4, y0: y0 - 4, x1: a.x1 - 4, y1: y0 + 12 * series.count, .white)
        image.strokeRect(x0: x0 - 4, y0: y0 - 4, x1: a.x1 - 4, y1: y0 + 12 * series.count, .gray)
        for (i, s) in series.enumerated() {
            let y = y0 + 12 * i + 3
            image.line(from: x0, y, to: x0 + 14, y, s.colour, thickness: 2)
            image.text(s.name, x: x0 + 20, y: y - 3)
        }
    }

    /// A range covering `values` (0...1 when empty; widened by 1 when flat).
    static func fit(_ values: [Double]) -> ClosedRange<Double> {
        guard let low = values.min(), let high = values.max() else { return 0 ... 1 }
        return high > low ? low ... high : (low - 0.5) ... (high + 0.5)
    }

    /// About five round tick values (steps of 1, 2 or 5 times a power of ten) inside `range`.
    static func ticks(_ range: ClosedRange<Double>) -> [Double] {
        let span = range.upperBound - range.lowerBound
        guard span > 0, span.isFinite else { return [range.lowerBound] }
        let raw = span / 5, power = pow(10, (log10(raw)).rounded(.down))
        let step = [1.0, 2, 5, 10].map { $0 * power }.first { $0 >= raw } ?? 10 * power
        let first = (range.lowerBound / step).rounded(.up) * step
        return stride(from: first, through: range.upperBound + step * 1e-9, by: step).map { $0 }
    }

    /// A short label for a tick value ("0.25", "10", "1.5").
    static func format(_ v: Double) -> String {
        if abs(v - v.rounded()) < 1e-9 { return String(Int(v.rounded())) }
        var s = String(format: "%.2f", v)
        while s.hasSuffix("0") { s.removeLast() }
        return s
    }
}
