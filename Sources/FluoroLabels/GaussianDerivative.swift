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
        // Exactly even (sign 1) or odd (sign −1): the passes use only w(0...r).
        func compose(_ a: [Double], _ b: [Double], sign: Float) -> [Float] {
            var w = (-radius ... radius).map { k in
                var sum = 0.0
                for j in -r1 ... r1 where abs(k - j) <= r1 { sum += a[j + r1] * b[k - j + r1] }
                return Float(sum)
            }
            if sign < 0 { w[radius] = 0 }
            for k in 1 ... radius { w[radius - k] = sign * w[radius + k] }
            return w
        }
        smooth = compose(g, g, sign: 1)
        first = compose(d, g, sign: -1)
        second = compose(d, d, sign: 1)
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

/// The separable passes. Kernels are even (smoothing, second derivative) or odd (first
/// derivative), so each pair of taps ±k costs one multiply: w(k) · (in[i − k] ± in[i + k]).
/// The inner loops keep 8 outputs in registers over all taps (SIMD8), one load per tap.
enum SeparablePass {
    /// out[x] = w(0)·c[x] + Σ_{k=1...r} w(k)·(minus[k−1][x] + sign·plus[k−1][x]), x in 0..<count.
    @inline(__always)
    private static func accumulate(center: UnsafePointer<Float>, minus: UnsafeMutablePointer<UnsafePointer<Float>>,
                                   plus: UnsafeMutablePointer<UnsafePointer<Float>>, weights: UnsafeBufferPointer<Float>,
                                   odd: Bool, out: UnsafeMutablePointer<Float>, count: Int) {
        let r = weights.count / 2
        let w0 = weights[r]
        var x = 0
        #if DEBUG
        // Unoptimised SIMD8 code is many times slower than scalar code; the lanes compute exactly
        // what the scalar loop below does, so debug and release builds give the same bits.
        let vectorEnd = 0
        #else
        let vectorEnd = count
        #endif
        while x + 8 <= vectorEnd {
            var acc = SIMD8<Float>(repeating: w0) * UnsafeRawPointer(center + x).loadUnaligned(as: SIMD8<Float>.self)
            for k in stride(from: 1, through: r, by: 1) {
                let a = UnsafeRawPointer(minus[k - 1] + x).loadUnaligned(as: SIMD8<Float>.self)
                let b = UnsafeRawPointer(plus[k - 1] + x).loadUnaligned(as: SIMD8<Float>.self)
                acc += SIMD8<Float>(repeating: weights[r + k]) * (odd ? a - b : a + b)
            }
            UnsafeMutableRawPointer(out + x).storeBytes(of: acc, as: SIMD8<Float>.self)
            x += 8
        }
        // The rest (all of it in debug builds), tap by tap over x: per x the same operations in
        // the same order as a SIMD lane.
        guard x < count else { return }
        for i in x ..< count { out[i] = w0 * center[i] }
        for k in stride(from: 1, through: r, by: 1) {
            let wk = weights[r + k], a = minus[k - 1], b = plus[k - 1]
            if odd {
                for i in x ..< count { out[i] += wk * (a[i] - b[i]) }
            } else {
                for i in x ..< count { out[i] += wk * (a[i] + b[i]) }
            }
        }
    }

    /// Filters along y (down the columns); `odd`: the kernel is odd (w(−k) = −w(k)), else even. input, output: [height, width]; an output row is a
    /// weighted sum of whole input rows, so the inner loop runs over contiguous x.
    static func vertical(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>,
                         width: Int, height: Int, kernel: [Float], odd: Bool) {
        let r = kernel.count / 2
        let minus = UnsafeMutablePointer<UnsafePointer<Float>>.allocate(capacity: max(r, 1))
        let plus = UnsafeMutablePointer<UnsafePointer<Float>>.allocate(capacity: max(r, 1))
        defer { minus.deallocate(); plus.deallocate() }
        kernel.withUnsafeBufferPointer { w in
            for y in 0 ..< height {
                // w(k) multiplies row y − k.
                for k in stride(from: 1, through: r, by: 1) {
                    minus[k - 1] = input + reflectIndex(y - k, height) * width
                    plus[k - 1] = input + reflectIndex(y + k, height) * width
                }
                accumulate(center: input + y * width, minus: minus, plus: plus, weights: w, odd: odd,
                           out: output + y * width, count: width)
            }
        }
    }

    /// Filters along x (along the rows); `odd` as for `vertical`. `padded` is scratch of at least width + 2·radius floats.
    static func horizontal(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>,
                           width: Int, height: Int, kernel: [Float], odd: Bool, padded: UnsafeMutablePointer<Float>) {
        let r = kernel.count / 2
        let minus = UnsafeMutablePointer<UnsafePointer<Float>>.allocate(capacity: max(r, 1))
        let plus = UnsafeMutablePointer<UnsafePointer<Float>>.allocate(capacity: max(r, 1))
        defer { minus.deallocate(); plus.deallocate() }
        // padded[j] = row[reflect(j − r)], j in 0 ..< width + 2r; row[x ∓ k] = padded[x + r ∓ k].
        for k in stride(from: 1, through: r, by: 1) {
            minus[k - 1] = UnsafePointer(padded + r - k)
            plus[k - 1] = UnsafePointer(padded + r + k)
        }
        kernel.withUnsafeBufferPointer { w in
            for y in 0 ..< height {
                let row = input + y * width
                for j in 0 ..< r { padded[j] = row[reflectIndex(j - r, width)] }
                (padded + r).update(from: row, count: width)
                for j in 0 ..< r { padded[r + width + j] = row[reflectIndex(width + j, width)] }
                accumulate(center: UnsafePointer(padded + r), minus: minus, plus: plus, weights: w, odd: odd,
                           out: output + y * width, count: width)
            }
        }
    }
}
