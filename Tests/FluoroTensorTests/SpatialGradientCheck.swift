import FluoroSupport

/// Finite-difference gradient checks for the spatial layers (Conv2D, Upsample, MaxPool2D, ReLU):
/// the loss is L = sum(out * r) for a fixed random r, so dout = r, and every analytic gradient
/// element is compared with the central difference (L(v + eps) - L(v - eps)) / 2 eps.
enum SpatialGradientCheck {
    /// Uniform values in [-1, 1) from a seeded generator.
    static func random(_ n: Int, _ rng: inout SplitMix64) -> [Float] {
        (0..<n).map { _ in Float(rng.nextUnit() * 2 - 1) }
    }

    /// sum(out * r) in double.
    static func dot(_ out: [Float], _ r: [Float]) -> Double {
        zip(out, r).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }

    /// The worst error over every element of `values`, |analytic - numeric| / max(1, |numeric|),
    /// with the numeric gradient from central differences of `loss`.
    static func worstError(values: [Float], analytic: [Float], eps: Float = 1e-2,
                           loss: ([Float]) -> Double) -> (error: Double, index: Int) {
        precondition(values.count == analytic.count, "gradient check: \(values.count) values, \(analytic.count) gradients")
        var worst = (error: 0.0, index: -1)
        var v = values
        for i in values.indices {
            v[i] = values[i] + eps
            let plus = loss(v)
            v[i] = values[i] - eps
            let minus = loss(v)
            v[i] = values[i]
            let numeric = (plus - minus) / (2 * Double(eps))
            let e = abs(Double(analytic[i]) - numeric) / max(1, abs(numeric))
            if e > worst.error || worst.index < 0 { worst = (e, i) }
        }
        return worst
    }
}
