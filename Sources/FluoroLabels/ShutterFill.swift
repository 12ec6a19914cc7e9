import Foundation

/// Collimator shutters: the black frame around the exposed field of a clinical run. To a ridge
/// filter the step from the bright field to the black shutter is a wide dark "vessel" all round
/// the field, so the shutter is found and painted over with the nearest field values before
/// filtering, and its response is set to zero afterwards.
enum ShutterFill {
    /// Marks in `shutter` (1 = shutter) the pixels at the frame's minimum value that are connected
    /// (4-neighbours) to the frame border, if they cover at least `minimumFraction` of the frame;
    /// then overwrites them in `image` with the nearest field pixel of their row (rows without field
    /// pixels copy the nearest such row). Returns the number of shutter pixels (0: none found).
    /// image, shutter: [height, width]; stack: scratch of width·height Int32.
    static func apply(_ image: UnsafeMutablePointer<Float>, width: Int, height: Int, shutter: UnsafeMutablePointer<UInt8>,
                      stack: UnsafeMutablePointer<Int32>, minimumFraction: Double = 0.05) -> Int {
        let n = width * height
        shutter.update(repeating: 0, count: n)
        guard n > 0 else { return 0 }
        var lowest = image[0]
        for i in 0 ..< n { lowest = min(lowest, image[i]) }
        let limit = lowest + 1e-6 * max(1, abs(lowest))
        // Flood fill from the border.
        var top = 0
        func push(_ i: Int) {
            if shutter[i] == 0 && image[i] <= limit { shutter[i] = 1; stack[top] = Int32(i); top += 1 }
        }
        for x in 0 ..< width { push(x); push((height - 1) * width + x) }
        for y in 0 ..< height { push(y * width); push(y * width + width - 1) }
        var count = 0
        while top > 0 {
            top -= 1
            let i = Int(stack[top])
            count += 1
            let x = i % width
            if x > 0 { push(i - 1) }
            if x + 1 < width { push(i + 1) }
            if i >= width { push(i - width) }
            if i + width < n { push(i + width) }
        }
        if count == 0 || Double(count) < minimumFraction * Double(n) {
            shutter.update(repeating: 0, count: n)
            return 0
        }
        if count == n { return count }
        // Rows: nearest field pixel along the row (sweeps left→right and right→left).
        var rowHasField = [Bool](repeating: false, count: height)
        for y in 0 ..< height {
            let row = image + y * width, mask = shutter + y * width
            var lastField = -1
            // The nearest field pixel on the left, then the nearer of it and the one on the right.
            var source = [Int](repeating: -1, count: width)
            for x in 0 ..< width {
                if mask[x] == 0 { lastField = x } else { source[x] = lastField }
            }
            if lastField < 0 { continue }
            rowHasField[y] = true
            var nextField = -1
            for x in stride(from: width - 1, through: 0, by: -1) {
                if mask[x] == 0 { nextField = x; continue }
                let left = source[x]
                let pick: Int
                if left < 0 { pick = nextField } else if nextField < 0 { pick = left } else { pick = (x - left) <= (nextField - x) ? left : nextField }
                source[x] = pick
            }
            for x in 0 ..< width where mask[x] != 0 { row[x] = row[source[x]] }
        }
        // Whole shutter rows copy the nearest row that had field pixels.
        let fieldRows = (0 ..< height).filter { rowHasField[$0] }
        guard !fieldRows.isEmpty else { return count }
        var k = 0
        for y in 0 ..< height where !rowHasField[y] {
            while k + 1 < fieldRows.count && abs(fieldRows[k + 1] - y) <= abs(fieldRows[k] - y) { k += 1 }
            (image + y * width).update(from: image + fieldRows[k] * width, count: width)
        }
        return count
    }
}
