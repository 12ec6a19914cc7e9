/// Soft Dice on logits (METHOD §10), per sample: 1 - (2 Σ p·g + 1) / (Σ p + Σ g + 1), p = sigmoid(logits).
/// Sums in Double over each sample's pixels; threads take samples (the same sums at any thread count).
public enum SoftDice {
    /// Per-sample losses [B] of logits and targets [B, P] (P pixels per sample).
    public static func forward(logits: UnsafePointer<Float>, targets: UnsafePointer<Float>, batch B: Int, pixels P: Int) -> [Double] {
        var losses = [Double](repeating: 0, count: B)
        losses.withUnsafeMutableBufferPointer { out in
            Parallel.forEach(B) { b in
                let sums = sums(logits + b * P, targets + b * P, P)
                out[b] = 1 - (2 * sums.pg + 1) / (sums.p + sums.g + 1)
            }
        }
        return losses
    }

    /// dLogits[b, :] += weights[b] · ∂loss_b/∂logits[b, :] (weights[b] is the sample's factor in
    /// the total loss; samples with weight 0 are skipped).
    public static func backward(dLogits: UnsafeMutablePointer<Float>, logits: UnsafePointer<Float>, targets: UnsafePointer<Float>,
                                weights: [Double], batch B: Int, pixels P: Int) {
        Parallel.forEach(B) { b in
            guard weights[b] != 0 else { return }
            let l = logits + b * P, g = targets + b * P, d = dLogits + b * P
            let s = sums(l, g, P)
            let denominator = s.p + s.g + 1, numerator = 2 * s.pg + 1
            // ∂/∂p_i of -(num/den) = -(2 g_i den - num) / den²; ∂p/∂logit = p (1 - p).
            let a = weights[b] / (denominator * denominator)
            for i in 0..<P {
                let p = Double(Losses.sigmoid(l[i]))
                d[i] += Float(-a * (2 * Double(g[i]) * denominator - numerator) * p * (1 - p))
            }
        }
    }

    static func sums(_ l: UnsafePointer<Float>, _ g: UnsafePointer<Float>, _ n: Int) -> (pg: Double, p: Double, g: Double) {
        var pg = 0.0, ps = 0.0, gs = 0.0
        for i in 0..<n {
            let p = Double(Losses.sigmoid(l[i])), t = Double(g[i])
            pg += p * t; ps += p; gs += t
        }
        return (pg, ps, gs)
    }
}
