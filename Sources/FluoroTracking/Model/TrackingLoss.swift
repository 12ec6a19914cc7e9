import FluoroModel
import FluoroTensor
import Foundation

/// HiFT's loss (METHOD §10): soft Dice of the heatmap against the max over landmarks of Gaussians
/// at the current frame's landmarks (mean over the batch), plus `catheterWeight` x the soft Dice
/// of the catheter-body logits over the samples that have a mask (0 when none has).
public struct TrackingLoss: Sendable, Equatable {
    public var total: Float
    public var heatmap: Float
    public var catheter: Float
    /// `total` as summed, in Double (finite-difference checks resolve it far below Float's step).
    public var precise: Double

    public init(total: Float, heatmap: Float, catheter: Float, precise: Double? = nil) {
        self.total = total; self.heatmap = heatmap; self.catheter = catheter; self.precise = precise ?? Double(total)
    }
}

/// One training batch for HiFT, in crop pixels (pixel centres at integer coordinates).
public struct TrackingBatch {
    /// Standardised windows [B, W, Sc, Sc].
    public var windows: [Float]
    /// Past estimates [B, W-1, K, 2] (x, y), NaN = none.
    public var past: [Float]
    /// Current frame's landmarks [B, K, 2].
    public var current: [Float]
    /// Catheter-body masks [B, Sc, Sc] in {0, 1} (zeros where absent) and which samples have one [B].
    public var catheterMasks: [Float]
    public var hasCatheterMask: [Bool]

    public init(windows: [Float], past: [Float], current: [Float], catheterMasks: [Float], hasCatheterMask: [Bool]) {
        self.windows = windows; self.past = past; self.current = current
        self.catheterMasks = catheterMasks; self.hasCatheterMask = hasCatheterMask
    }
}

public enum GaussianTargets {
    /// [B, size, size]: per sample the max over landmarks of exp(-((u-x)² + (v-y)²) / (2σ²)) at
    /// pixel centres u, v = 0, 1, … of points [B, K, 2]; NaN points add nothing. Each Gaussian is
    /// evaluated where it is not 0 in Float (exp(-t) underflows to 0 for t > 104), so the result is
    /// the same as over every pixel; threads take samples.
    public static func make(points: [Float], batch B: Int, landmarks K: Int, size: Int, sigma: Float) -> [Float] {
        var out = [Float](repeating: 0, count: B * size * size)
        let inv = 1 / (2 * sigma * sigma), reach = Int((105 / inv).squareRoot()) + 2  // pixels from the centre
        out.withUnsafeMutableBufferPointer { out in
            Parallel.forEach(B) { b in
                for k in 0..<K {
                    let x = points[(b * K + k) * 2], y = points[(b * K + k) * 2 + 1]
                    guard x.isFinite && y.isFinite && abs(x) < 1e6 && abs(y) < 1e6 else { continue }  // farther: 0 everywhere
                    let u0 = max(0, Int(x.rounded(.down)) - reach), u1 = min(size, Int(x.rounded(.up)) + reach + 1)
                    let v0 = max(0, Int(y.rounded(.down)) - reach), v1 = min(size, Int(y.rounded(.up)) + reach + 1)
                    guard u0 < u1 && v0 < v1 else { continue }
                    for v in v0..<v1 {
                        let dy = (Float(v) - y) * (Float(v) - y), row = out.baseAddress! + (b * size + v) * size
                        for u in u0..<u1 {
                            let dx = (Float(u) - x) * (Float(u) - x)
                            row[u] = max(row[u], expf(-(dx + dy) * inv))
                        }
                    }
                }
            }
        }
        return out
    }

    /// How many landmarks of points [.., 2] are present (finite): the focal term's normaliser.
    public static func presentCount(points: [Float]) -> Int {
        stride(from: 0, to: points.count, by: 2).filter { points[$0].isFinite }.count
    }
}

extension HiFT {
    /// Zeroes the gradients, runs forward and backward on `batch` and returns the loss; the
    /// gradients of this batch's mean loss are in `parameters.gradients`.
    /// `sigma` overrides the config's target sigma (the σ curriculum).
    public func forwardBackward(_ batch: TrackingBatch, sigma: Float? = nil) throws -> TrackingLoss {
        let c = config, B = self.batch, P = c.crop * c.crop
        try check(batch)
        parameters.zeroGradients()
        let targets = GaussianTargets.make(points: batch.current, batch: B, landmarks: c.landmarks, size: c.crop, sigma: sigma ?? c.sigma)
        // The catheter head runs on the windows with a mask only (the others add nothing to the loss).
        let masked = c.catheterWeight > 0 ? batch.hasCatheterMask.indices.filter { batch.hasCatheterMask[$0] } : []
        let withMask = masked.count, useCatheter = withMask > 0
        let (heat, cath) = batch.windows.withUnsafeBufferPointer { w in
            batch.past.withUnsafeBufferPointer { p in forward(window: w.baseAddress!, past: p.baseAddress!, catheterSamples: masked) }
        }
        let heatLosses = SoftDice.forward(logits: heat, targets: targets, batch: B, pixels: P)
        let heatLoss = heatLosses.reduce(0, +) / Double(B)
        var cathLoss = 0.0
        let dHeat = dHeatmapLogits
        dHeat.zero()
        SoftDice.backward(dLogits: dHeat.pointer, logits: heat, targets: targets, weights: Array(repeating: 1 / Double(B), count: B),
                          batch: B, pixels: P)
        var bce = 0.0
        if c.heatmapBCEWeight > 0 {
            bce = Double(targets.withUnsafeBufferPointer { t in
                Losses.bceWithLogits(logits: heat, labels: t.baseAddress!, count: B * P)
            })
            targets.withUnsafeBufferPointer { t in
                Losses.bceWithLogitsBackward(dLogits: dHeat.pointer, logits: heat, labels: t.baseAddress!, count: B * P, scale: c.heatmapBCEWeight)
            }
        }
        var focal = 0.0
        if let w = c.heatmapFocalWeight, w > 0 {
            let present = GaussianTargets.presentCount(points: batch.current)
            focal = targets.withUnsafeBufferPointer { t in
                QualityFocalLoss.forward(logits: heat, targets: t.baseAddress!, count: B * P, normaliser: Double(max(1, present)),
                                         gradient: dHeat.pointer, scale: w)
            }
            focal *= Double(w)
        }
        var dCath: FloatBuffer?
        if useCatheter, let cath {  // cath: [withMask, Sc, Sc], the masked windows in order
            let masks = masked.flatMap { batch.catheterMasks[($0 * P)..<(($0 + 1) * P)] }
            let losses = masks.withUnsafeBufferPointer { SoftDice.forward(logits: cath, targets: $0.baseAddress!, batch: withMask, pixels: P) }
            cathLoss = losses.reduce(0, +) / Double(withMask)
            let weights = Array(repeating: Double(c.catheterWeight) / Double(withMask), count: withMask)
            let buffer = dCatheterLogits
            buffer.pointer.update(repeating: 0, count: withMask * P)
            masks.withUnsafeBufferPointer {
                SoftDice.backward(dLogits: buffer.pointer, logits: cath, targets: $0.baseAddress!, weights: weights, batch: withMask, pixels: P)
            }
            dCath = buffer
        }
        backward(dHeatmap: dHeat.pointer, dCatheter: dCath.map { UnsafePointer($0.pointer) })
        let total = heatLoss + Double(c.heatmapBCEWeight) * bce + focal + Double(c.catheterWeight) * cathLoss
        return TrackingLoss(total: Float(total), heatmap: Float(heatLoss), catheter: Float(cathLoss), precise: total)
    }

    func check(_ b: TrackingBatch) throws {
        let c = config, B = batch
        func require(_ name: String, _ count: Int, _ expected: Int) throws {
            if count != expected { throw ModelInputError.wrongCount(input: name, expected: expected, found: count) }
        }
        try require("windows", b.windows.count, B * c.window * c.crop * c.crop)
        try require("past", b.past.count, B * (c.window - 1) * c.landmarks * 2)
        try require("current", b.current.count, B * c.landmarks * 2)
        try require("catheterMasks", b.catheterMasks.count, B * c.crop * c.crop)
        try require("hasCatheterMask", b.hasCatheterMask.count, B)
    }
}
