import FluoroPlot
import Testing

/// `RGBImage.resized` and `RGBImage.title`.
@Suite struct PanelTests {
    @Test func shrinkingAveragesAndEnlargingRepeats() {
        var image = RGBImage(width: 4, height: 2, fill: .black)
        image.fillRect(x0: 0, y0: 0, x1: 0, y1: 1, .white)
        let small = image.resized(width: 2, height: 1)
        #expect(small[0, 0] == RGB(128, 128, 128) && small[1, 0] == .black)
        let large = small.resized(width: 4, height: 2)
        #expect(large[1, 1] == RGB(128, 128, 128) && large[2, 0] == .black)
    }

    @Test func titleDrawsTextOnItsBox() {
        var image = RGBImage(width: 40, height: 20, fill: .gray)
        image.title("A", x: 2, y: 2, scale: 1)
        let box = (2 ... 8).flatMap { x in (2 ... 10).map { image[x, $0] } }
        #expect(box.contains(.white) && box.contains(.black) && !box.contains(.gray))
        #expect(image[9, 2] == .gray)
    }
}
