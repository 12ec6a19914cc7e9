import Foundation
import Testing
@testable import FluoroPlot

/// Lines, shapes, the 5x7 font and the line chart, checked pixel by pixel.
@Suite struct DrawingTests {
    static func count(_ image: RGBImage, _ colour: RGB) -> Int {
        (0 ..< image.height).reduce(0) { n, y in n + (0 ..< image.width).filter { image[$0, y] == colour }.count }
    }

    @Test func bresenhamLineCoversBothEndsAndIsConnected() {
        var image = RGBImage(width: 20, height: 10)
        image.line(from: 1, 2, to: 17, 8, .red)
        #expect(image[1, 2] == .red && image[17, 8] == .red)
        // One pixel per column of an x-major line.
        for x in 1 ... 17 { #expect((0 ..< 10).filter { image[x, $0] == .red }.count == 1) }
        #expect(Self.count(image, .red) == 17)
    }

    @Test func shapesFillWhatTheySayAndClip() {
        var image = RGBImage(width: 40, height: 40)
        image.fillRect(x0: 2, y0: 3, x1: 5, y1: 4, .blue)
        #expect(Self.count(image, .blue) == 8)
        image.fillCircle(cx: 20, cy: 20, radius: 6, .green)
        let disc = Self.count(image, .green)
        #expect(abs(Double(disc) - Double.pi * 36) < 12, "disc of radius 6 covers \(disc) px")
        image.cross(x: 0, y: 0, arm: 3, .red)
        #expect(Self.count(image, .red) == 7, "the parts of the cross outside the image are clipped")
        image.fillRect(x0: -5, y0: -5, x1: -1, y1: -1, .yellow)
        #expect(Self.count(image, .yellow) == 0)
    }

    @Test func everyGlyphIsFiveBySeven() {
        for (c, rows) in BitmapFont.glyphs {
            let cells = rows.split(separator: " ")
            #expect(cells.count == 7 && cells.allSatisfy { $0.count == 5 && $0.allSatisfy { "#.".contains($0) } },
                    "glyph \(c) is malformed")
        }
        #expect(BitmapFont.glyphs.count > 50)
    }

    @Test func textDrawsTheGlyphsInk() {
        var image = RGBImage(width: 30, height: 9)
        image.text("1-", x: 1, y: 1)
        // "1": 10 ink cells; "-": 5.
        #expect(Self.count(image, .black) == 15)
        #expect(image[1 + 6, 1 + 3] == .black && image[1 + 6, 1 + 2] == .white)
        #expect(BitmapFont.ink("a", x: 0, y: 3) == BitmapFont.ink("A", x: 0, y: 3))
    }

    @Test func lineChartMapsDataToThePlotArea() {
        var chart = LineChart(title: "T", xLabel: "x", yLabel: "y")
        chart.series = [.init(name: "s", points: [(0, 0), (10, 1)], colour: .red)]
        let a = chart.plotArea
        #expect(chart.pixel(x: 0, y: 0) == (a.x0, a.y1))
        #expect(chart.pixel(x: 10, y: 1) == (a.x1, a.y0))
        let image = chart.render()
        #expect(image.width == 640 && image.height == 420)
        #expect(Self.count(image, .red) > 2 * (a.x1 - a.x0))
        #expect(LineChart.ticks(0 ... 10) == [0, 2, 4, 6, 8, 10])
        #expect(LineChart.format(0.25) == "0.25" && LineChart.format(3) == "3")
    }
}
