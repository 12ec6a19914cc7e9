import FluoroTensor
import Foundation

/// HiFT's correlation tokens (METHOD §10), each a sum of learned embeddings `landmark[k]`,
/// `age[a-1]` (a = frames back) and `kind[0|1]` plus:
/// - appearance (kind 0): for every past slot and landmark, the 3x3 token window of that slot's
///   features around the landmark's estimate in the slot's last frame, plus `cell[i]`;
/// - trajectory (kind 1): for every past frame and landmark, `traj_x[qx] + traj_y[qy]` with the
///   estimate quantised to G bins per axis (bin G on both axes when there is no estimate).
/// Order: appearance (slot, landmark, cell), then trajectory (frame, landmark). The gathers keep
/// their indices for backward, which scatters into the features and the embeddings.
final class CorrelationTokens {
    let c: HiFTConfig
    let B: Int, D: Int
    let trajX, trajY, landmark, age, cell, kind: UnsafeMutablePointer<Float>
    let dTrajX, dTrajY, dLandmark, dAge, dCell, dKind: UnsafeMutablePointer<Float>
    /// Per appearance token [B, Na]: the feature row (within the sample's N tokens) it copies.
    var featureRow: [Int32]
    /// Per trajectory token [B, Nt]: the x and y bins.
    var binX: [Int32], binY: [Int32]
    /// The tokens [B, Nc, D].
    let tokens: FloatBuffer

    init(config: HiFTConfig, batch: Int, arena: ParameterArena) {
        c = config; B = batch; D = config.width
        func v(_ n: String) -> UnsafeMutablePointer<Float> { arena.value("correlation." + n) }
        func d(_ n: String) -> UnsafeMutablePointer<Float> { arena.gradient("correlation." + n) }
        trajX = v("traj_x"); trajY = v("traj_y"); landmark = v("landmark"); age = v("age"); cell = v("cell"); kind = v("kind")
        dTrajX = d("traj_x"); dTrajY = d("traj_y"); dLandmark = d("landmark"); dAge = d("age"); dCell = d("cell"); dKind = d("kind")
        featureRow = [Int32](repeating: 0, count: batch * config.appearanceCount)
        binX = [Int32](repeating: 0, count: batch * config.trajectoryCount)
        binY = binX
        tokens = FloatBuffer(count: batch * config.contextTokens * config.width)
    }

    /// The appearance window's centre cell of a crop-pixel coordinate (NaN: the crop centre).
    func centreCell(_ v: Float) -> Int {
        let x = v.isNaN ? Float(c.crop) / 2 : v
        return min(max(Int((x / Float(c.patch)).rounded(.down)), 1), c.grid - 2)
    }

    /// A coordinate's trajectory bin: floor(v / Sc · G) clamped to 0..<G.
    func bin(_ v: Float) -> Int32 {
        Int32(min(max(Int((v / Float(c.crop) * Float(c.trajectoryBins)).rounded(.down)), 0), c.trajectoryBins - 1))
    }

    /// Fills `tokens` [B, Nc, D] from features [B, N, D] and past estimates [B, W-1, K, 2]
    /// (x, y crop pixels of frames t-W+1 … t-1; NaN = no estimate).
    func forward(features: UnsafePointer<Float>, past: UnsafePointer<Float>) {
        let K = c.landmarks, W = c.window, G = c.trajectoryBins, g = c.grid, side = HiFTConfig.appearanceSide
        let Nc = c.contextTokens, Na = c.appearanceCount, Nt = c.trajectoryCount
        for b in 0..<B {
            var j = 0
            if c.appearanceTokens {
                for slot in 0..<(c.slots - 1) {
                    let f = c.tubelet * slot + c.tubelet - 1, back = W - 1 - f
                    for k in 0..<K {
                        let p = past + ((b * (W - 1) + f) * K + k) * 2
                        let cx = centreCell(p[0]), cy = centreCell(p[1])
                        for i in 0..<(side * side) {
                            let row = (slot * g + cy + i / side - 1) * g + cx + i % side - 1
                            featureRow[b * Na + j] = Int32(row)
                            sum(into: tokens.pointer + (b * Nc + j) * D, features + (b * c.tokens + row) * D,
                                cell + i * D, landmark + k * D, age + (back - 1) * D, kind)
                            j += 1
                        }
                    }
                }
            }
            guard c.trajectoryTokens else { continue }
            for f in 0..<(W - 1) {
                for k in 0..<K {
                    let p = past + ((b * (W - 1) + f) * K + k) * 2
                    let missing = p[0].isNaN || p[1].isNaN
                    let t = b * Nt + (j - Na)
                    binX[t] = missing ? Int32(G) : bin(p[0]); binY[t] = missing ? Int32(G) : bin(p[1])
                    sum(into: tokens.pointer + (b * Nc + j) * D, trajX + Int(binX[t]) * D, trajY + Int(binY[t]) * D,
                        landmark + k * D, age + (W - 1 - f - 1) * D, kind + D)
                    j += 1
                }
            }
        }
    }

    /// Adds the tokens' gradient dTokens [B, Nc, D] into dFeatures [B, N, D] and the embeddings' gradients.
    func backward(dTokens: UnsafePointer<Float>, dFeatures: UnsafeMutablePointer<Float>) {
        let K = c.landmarks, W = c.window, side = HiFTConfig.appearanceSide
        let Nc = c.contextTokens, Na = c.appearanceCount, Nt = c.trajectoryCount
        for b in 0..<B {
            var j = 0
            if c.appearanceTokens {
                for slot in 0..<(c.slots - 1) {
                    let back = W - 1 - (c.tubelet * slot + c.tubelet - 1)
                    for k in 0..<K {
                        for i in 0..<(side * side) {
                            let g = dTokens + (b * Nc + j) * D
                            for dst in [dFeatures + (b * c.tokens + Int(featureRow[b * Na + j])) * D, dCell + i * D,
                                        dLandmark + k * D, dAge + (back - 1) * D, dKind] {
                                VectorMath.axpy(1, g, dst, D)
                            }
                            j += 1
                        }
                    }
                }
            }
            guard c.trajectoryTokens else { continue }
            for f in 0..<(W - 1) {
                for k in 0..<K {
                    let g = dTokens + (b * Nc + j) * D, t = b * Nt + (j - Na)
                    for dst in [dTrajX + Int(binX[t]) * D, dTrajY + Int(binY[t]) * D, dLandmark + k * D,
                                dAge + (W - 1 - f - 1) * D, dKind + D] {
                        VectorMath.axpy(1, g, dst, D)
                    }
                    j += 1
                }
            }
        }
    }

    /// out[:D] = a + b + c + d + e, summed left to right as the reference does.
    private func sum(into out: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                     _ c: UnsafePointer<Float>, _ d: UnsafePointer<Float>, _ e: UnsafePointer<Float>) {
        for i in 0..<D { out[i] = (((a[i] + b[i]) + c[i]) + d[i]) + e[i] }
    }
}
