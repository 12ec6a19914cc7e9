import Foundation

/// Separable Gaussian blur of a square image in place (edges clamp), for augmentation.
enum GaussianBlur {
    /// image: [side, side]; sigma in pixels (below 0.2: nothing to do).
    static func apply(_ image: inout [Float], side n: Int, sigma: Float) {
        guard sigma >= 0.2 else { return }
        let radius = Int((3 * sigma).rounded(.up))
        var kernel = (-radius...radius).map { expf(-Float($0 * $0) / (2 * sigma * sigma)) }
        let total = kernel.reduce(0, +)
        kernel = kernel.map { $0 / total }
        var tmp = image
        for y in 0..<n {
            for x in 0..<n {
                var s: Float = 0
                for (k, w) in kernel.enumerated() { s += w * image[y * n + min(max(x + k - radius, 0), n - 1)] }
                tmp[y * n + x] = s
            }
        }
        for y in 0..<n {
            for x in 0..<n {
                var s: Float = 0
                for (k, w) in kernel.enumerated() { s += w * tmp[min(max(y + k - radius, 0), n - 1) * n + x] }
                image[y * n + x] = s
            }
        }
    }
}
