import Foundation

/// 1-D Gaussian-derivative kernels and the separable passes that apply them to a Float image
/// with reflected borders (scipy's `mode="reflect"`: d c b a | a b c d | d c b a).
struct GaussianDerivativeKernels: Sendable {
    /// Kernel weights w(k) for offsets k = -radius...radius, stored at index k + radius;
    /// a pass computes out[i] = Σ_k w(k) · in[i − k] (a convolution, as scipy applies them).
    var smooth: [Float]
    var first: [Float]
    var second: [Float]
    var radius: Int

    /// Kernels for the Hessian at scale `sigma`, built as scikit-image builds its Hessian: two
    /// successive Gaussian (derivative) filters at sigma/√2, composed here into one kernel per
    /// order (smooth = g∗g, first = g′∗g, second = g′∗g′), then cut at 4·sigma.
    init(sigma: Double) {
        let s = sigma / 2.0.squareRoot()
        let r1 = max(1, Int(4 * s + 0.5))
        var g = [Double](repeating: 0, count: 2 * r1 + 1)
        for k in -r1 ... r1 { g[k + r1] = exp(-Double(k * k) / (2 * s * s)) }
        let total = g.reduce(0, +)
        g = g.map { $0 / total }
        // d/dx of the sampled Gaussian: −x/s² · g(x).
        let d = (-r1 ... r1).map { -Double($0) / (s * s) * g[$0 + r1] }
        let composedRadius = 2 * r1
        let radius = min(composedRadius, max(1, Int(4 * sigma + 0.5)))
        func compose(_ a: [Double], _ b: [Double]) -> [Float] {
            (-radius ... radius).map { k in
                var sum = 0.0
                for j in -r1 ... r1 where abs(k - j) <= r1 { sum += a[j + r1] * b[k - j + r1] }
                return Float(sum)
            }
        }
        smooth = compose(g, g)
        first = compose(d, g)
        second = compose(d, d)
        self.radius = radius
    }
}

/// Reflects index `i` into 0..<n (half-sample symmetric, repeated for kernels wider than n).
@inline(__always)
func reflectIndex(_ i: Int, _ n: Int) -> Int {
    if i >= 0 && i < n { return i }
    let period = 2 * n
    var m = i % period
    if m < 0 { m += period }
    return m < n ? m : period - 1 - m
}

enum SeparablePass {
    /// Filters along y (down the columns). input, output: [height, width]; rows of output are
    /// sums of whole input rows, so the inner loop runs over contiguous x and vectorises.
    static func vertical(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>,
                         width: Int, height: Int, kernel: [Float]) {
        let r = kernel.count / 2
        kernel.withUnsafeBufferPointer { w in
            for y in 0 ..< height {
                let out = output + y * width
                out.update(repeating: 0, count: width)
                for t in 0 ..< w.count {
                    let wk = w[t]
                    if wk == 0 { continue }
                    // offset k = t − r reads row y − k.
                    let row = input + reflectIndex(y - (t - r), height) * width
                    for x in 0 ..< width { out[x] += wk * row[x] }
                }
            }
        }
    }

    /// Filters along x (along the rows). `padded` is scratch of at least width + 2·radius floats.
    static func horizontal(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>,
                           width: Int, height: Int, kernel: [Float], padded: UnsafeMutablePointer<Float>) {
        let r = kernel.count / 2
        kernel.withUnsafeBufferPointer { w in
            for y in 0 ..< height {
                let row = input + y * width
                // padded[j] = row[reflect(j − r)], j in 0 ..< width + 2r.
                for j in 0 ..< r { padded[j] = row[reflectIndex(j - r, width)] }
                (padded + r).update(from: row, count: width)
                for j in 0 ..< r { padded[r + width + j] = row[reflectIndex(width + j, width)] }
                let out = output + y * width
                out.update(repeating: 0, count: width)
                for t in 0 ..< w.count {
                    let wk = w[t]
                    if wk == 0 { continue }
                    // out[x] += w(k) · row[x − k] = w(k) · padded[x − k + r], k = t − r.
                    let base = padded + (2 * r - t)
                    for x in 0 ..< width { out[x] += wk * base[x] }
                }
            }
        }
    }
}
