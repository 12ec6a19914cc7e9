import FluoroSupport
import FluoroTensor
import Testing

/// Finite-difference gradient checking for the layers: perturb every element of every input by ±h,
/// take the central difference of a scalar loss (accumulated in Double), and compare with the
/// analytic gradient relative to that tensor's largest gradient.
enum GradientCheck {
    /// Uniform random floats in [-scale, scale).
    static func random(_ count: Int, _ rng: inout SplitMix64, scale: Float = 1) -> FloatBuffer {
        FloatBuffer((0..<count).map { _ in Float(rng.nextUnit() * 2 - 1) * scale })
    }

    /// Σ out[i] · weights[i] in Double: a scalar loss whose gradient w.r.t. out is `weights`.
    static func weightedSum(_ out: FloatBuffer, _ weights: FloatBuffer) -> Double {
        var s: Double = 0
        for i in 0..<out.count { s += Double(out[i]) * Double(weights[i]) }
        return s
    }

    /// The worst |numeric - analytic| / max(max|analytic|, floor) over each named input.
    static func relativeErrors(inputs: [(String, FloatBuffer)], analytic: [String: FloatBuffer], h: Float = 1e-2,
                               floor: Float = 1e-3, loss: () -> Double) -> [String: Float] {
        var result: [String: Float] = [:]
        for (name, x) in inputs {
            guard let g = analytic[name] else { result[name] = .infinity; continue }
            var worst: Float = 0, scale: Float = floor, numericMax: Float = 0
            for i in 0..<x.count { scale = max(scale, abs(g[i])) }
            for i in 0..<x.count {
                let saved = x[i]
                x[i] = saved + h; let up = x[i]; let lossUp = loss()
                x[i] = saved - h; let down = x[i]; let lossDown = loss()
                x[i] = saved
                let numeric = Float((lossUp - lossDown) / Double(up - down))
                numericMax = max(numericMax, abs(numeric))
                worst = max(worst, abs(numeric - g[i]))
            }
            // A vanishing gradient everywhere would make the check vacuous: report it as a failure.
            result[name] = numericMax == 0 ? .infinity : worst / scale
        }
        return result
    }

    /// Runs `relativeErrors` and expects each to be below `tolerance`.
    static func expectGradients(_ op: String, inputs: [(String, FloatBuffer)], analytic: [String: FloatBuffer],
                                h: Float = 1e-2, tolerance: Float = 1e-2, loss: () -> Double,
                                sourceLocation: SourceLocation = #_sourceLocation) {
        let errors = relativeErrors(inputs: inputs, analytic: analytic, h: h, loss: loss)
        for (name, _) in inputs {
            let e = errors[name] ?? .infinity
            #expect(e < tolerance, "\(op): gradient of \(name) is off by \(e) relative to its largest value",
                    sourceLocation: sourceLocation)
        }
    }
}
