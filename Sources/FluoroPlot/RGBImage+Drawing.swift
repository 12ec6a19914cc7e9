/// Raster drawing on an `RGBImage`: lines, rectangles, filled circles, crosses, text and pasted
/// images. Coordinates are pixels (x right, y down); anything outside the image is clipped.
extension RGBImage {
    /// Sets pixel (x, y) when it lies inside the image.
    public mutating func plot(_ x: Int, _ y: Int, _ colour: RGB) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        self[x, y] = colour
    }

    /// A line from (x0, y0) to (x1, y1) by Bresenham's algorithm, `thickness` pixels wide (a square pen).
    public mutating func line(from x0: Int, _ y0: Int, to x1: Int, _ y1: Int, _ colour: RGB, thickness: Int = 1) {
        let dx = abs(x1 - x0), dy = -abs(y1 - y0)
        let sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1
        var x = x0, y = y0, error = dx + dy
        let low = -(thickness - 1) / 2, high = thickness / 2
        while true {
            for oy in low ... high { for ox in low ... high { plot(x + ox, y + oy, colour) } }
            if x == x1 && y == y1 { break }
            let e2 = 2 * error
            if e2 >= dy { error += dy; x += sx }
            if e2 <= dx { error += dx; y += sy }
        }
    }

    /// The outline of the rectangle with corners (x0, y0) and (x1, y1), inclusive.
    public mutating func strokeRect(x0: Int, y0: Int, x1: Int, y1: Int, _ colour: RGB) {
        line(from: x0, y0, to: x1, y0, colour); line(from: x0, y1, to: x1, y1, colour)
        line(from: x0, y0, to: x0, y1, colour); line(from: x1, y0, to: x1, y1, colour)
    }

    /// The filled rectangle with corners (x0, y0) and (x1, y1), inclusive.
    public mutating func fillRect(x0: Int, y0: Int, x1: Int, y1: Int, _ colour: RGB) {
        let xa = max(0, min(x0, x1)), xb = min(width - 1, max(x0, x1))
        let ya = max(0, min(y0, y1)), yb = min(height - 1, max(y0, y1))
        guard xa <= xb, ya <= yb else { return }
        for y in ya ... yb { for x in xa ... xb { self[x, y] = colour } }
    }

    /// A filled disc of `radius` pixels centred at (cx, cy) (sub-pixel centre).
    public mutating func fillCircle(cx: Double, cy: Double, radius: Double, _ colour: RGB) {
        let r2 = radius * radius
        for y in Int((cy - radius).rounded(.down)) ... Int((cy + radius).rounded(.up)) {
            for x in Int((cx - radius).rounded(.down)) ... Int((cx + radius).rounded(.up)) {
                let dx = Double(x) + 0.5 - cx, dy = Double(y) + 0.5 - cy
                if dx * dx + dy * dy <= r2 { plot(x, y, colour) }
            }
        }
    }

    /// A circle outline of `radius` pixels centred at (cx, cy).
    public mutating func strokeCircle(cx: Double, cy: Double, radius: Double, _ colour: RGB) {
        let inner = (radius - 1) * (radius - 1), outer = radius * radius
        for y in Int((cy - radius).rounded(.down)) ... Int((cy + radius).rounded(.up)) {
            for x in Int((cx - radius).rounded(.down)) ... Int((cx + radius).rounded(.up)) {
                let dx = Double(x) + 0.5 - cx, dy = Double(y) + 0.5 - cy, d2 = dx * dx + dy * dy
                if d2 <= outer && d2 >= inner { plot(x, y, colour) }
            }
        }
    }

    /// An upright cross (+) with arms of `arm` pixels centred at pixel (x, y).
    public mutating func cross(x: Int, y: Int, arm: Int, _ colour: RGB, thickness: Int = 1) {
        line(from: x - arm, y, to: x + arm, y, colour, thickness: thickness)
        line(from: x, y - arm, to: x, y + arm, colour, thickness: thickness)
    }

    /// `text` in the built-in 5x7 font with its top-left corner at (x, y), each font pixel
    /// `scale` x `scale` image pixels.
    public mutating func text(_ text: String, x: Int, y: Int, _ colour: RGB = .black, scale: Int = 1) {
        var left = x
        for c in text {
            for gy in 0 ..< BitmapFont.glyphHeight {
                for gx in 0 ..< BitmapFont.glyphWidth where BitmapFont.ink(c, x: gx, y: gy) {
                    for sy in 0 ..< scale { for sx in 0 ..< scale { plot(left + gx * scale + sx, y + gy * scale + sy, colour) } }
                }
            }
            left += BitmapFont.advance * scale
        }
    }

    /// `text` drawn bottom-to-top (rotated 90° anticlockwise) with its bottom-left corner at (x, y).
    public mutating func verticalText(_ text: String, x: Int, y: Int, _ colour: RGB = .black) {
        var bottom = y
        for c in text {
            for gy in 0 ..< BitmapFont.glyphHeight {
                for gx in 0 ..< BitmapFont.glyphWidth where BitmapFont.ink(c, x: gx, y: gy) {
                    plot(x + gy, bottom - gx, colour)
                }
            }
            bottom -= BitmapFont.advance
        }
    }

    /// Copies `image` into this one with its top-left corner at (x, y) (clipped).
    public mutating func paste(_ image: RGBImage, x: Int, y: Int) {
        for sy in 0 ..< image.height { for sx in 0 ..< image.width { plot(x + sx, y + sy, image[sx, sy]) } }
    }
}
