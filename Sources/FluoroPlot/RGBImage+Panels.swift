/// Helpers for figures made of image panels: resampling a panel and titling it.
extension RGBImage {
    /// This image at `width` x `height`: each target pixel is the mean of the source pixels it
    /// covers (at least the one under its top-left corner), so shrinking averages and enlarging
    /// repeats pixels.
    public func resized(width: Int, height: Int) -> RGBImage {
        if width == self.width && height == self.height { return self }
        var out = RGBImage(width: width, height: height)
        for ty in 0 ..< height {
            let (y0, y1) = Self.span(ty, target: height, source: self.height)
            for tx in 0 ..< width {
                let (x0, x1) = Self.span(tx, target: width, source: self.width)
                out[tx, ty] = mean(x0: x0, x1: x1, y0: y0, y1: y1)
            }
        }
        return out
    }

    /// The source pixels [lower, upper) that target pixel `index` covers.
    private static func span(_ index: Int, target: Int, source: Int) -> (Int, Int) {
        let lower = index * source / target
        return (lower, max(lower + 1, (index + 1) * source / target))
    }

    /// The mean colour of the pixels in [x0, x1) x [y0, y1), rounded.
    private func mean(x0: Int, x1: Int, y0: Int, y1: Int) -> RGB {
        var r = 0, g = 0, b = 0
        for y in y0 ..< y1 {
            for x in x0 ..< x1 {
                let i = 3 * (y * width + x)
                r += Int(pixels[i]); g += Int(pixels[i + 1]); b += Int(pixels[i + 2])
            }
        }
        let n = (x1 - x0) * (y1 - y0)
        return RGB(UInt8((r + n / 2) / n), UInt8((g + n / 2) / n), UInt8((b + n / 2) / n))
    }

    /// `text` in the 5x7 font at `scale`, on a filled box with a margin of `scale` pixels, with
    /// the box's top-left corner at (x, y): a title that stays legible on any image.
    public mutating func title(_ text: String, x: Int, y: Int, _ colour: RGB = .white, background: RGB = .black,
                               scale: Int = 2) {
        let width = BitmapFont.width(of: text) * scale, height = BitmapFont.glyphHeight * scale
        fillRect(x0: x, y0: y, x1: x + width + 2 * scale - 1, y1: y + height + 2 * scale - 1, background)
        self.text(text, x: x + scale, y: y + scale, colour, scale: scale)
    }
}
