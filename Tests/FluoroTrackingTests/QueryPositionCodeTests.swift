import FluoroTensor
import Testing
@testable import FluoroTracking

/// `queryPositionCodes`: each decoder query gets the fixed sin-cos code of its cell — the code the
/// trajectory bin of the cell's centre starts with under `trajectoryPositionInit` — and gradients
/// stay exact; off, the queries are the encoder's tokens as METHOD §10 has them.
@Suite(.serialized) struct QueryPositionCodeTests {
    @Test func queriesCarryTheCodeOfTheirCellsTrajectoryBin() throws {
        Parallel.configure(threads: 1)
        var c = HiFTConfig.tiny
        c.queryPositionCodes = true; c.trajectoryPositionInit = true
        let model = HiFT(config: c, batch: 2, seed: 4)
        let batch = HiFTGradientTests.tinyBatch(c, batch: 2, seed: 1)
        _ = try model.forwardBackward(batch)
        let D = c.width, n = c.queries, g = c.grid, G = c.trajectoryBins
        let feats = try #require(model.features)
        let trajX = model.parameters.valueArray("correlation.traj_x"), trajY = model.parameters.valueArray("correlation.traj_y")
        for b in 0..<2 {
            for cell in [0, 5, n - 1] {
                let (cx, cy) = (cell % g, cell / g)
                // The cell's centre in crop pixels, binned as a trajectory estimate is: floor(x / Sc · G).
                let qx = Int((Float(cx) + 0.5) * Float(c.patch) / Float(c.crop) * Float(G))
                let qy = Int((Float(cy) + 0.5) * Float(c.patch) / Float(c.crop) * Float(G))
                for j in [0, 1, D / 2 - 1, D / 2, D - 1] {
                    let query = model.streams[0].pointer[(b * n + cell) * D + j]
                    let token = feats[(b * c.tokens + (c.slots - 1) * n + cell) * D + j]
                    #expect(abs(query - token - (trajX[qx * D + j] + trajY[qy * D + j])) < 1e-5, "b \(b) cell \(cell) column \(j)")
                }
            }
        }
        var plain = c
        plain.queryPositionCodes = nil
        let off = HiFT(config: plain, batch: 2, seed: 4)
        _ = try off.forwardBackward(batch)
        let offFeats = try #require(off.features)
        #expect(off.streams[0].pointer[7] == offFeats[(c.slots - 1) * n * D + 7], "off: the queries are the tokens")
    }

    @Test func gradientsStayExact() throws {
        Parallel.configure(threads: 1)
        var c = HiFTConfig.tiny
        c.queryPositionCodes = true
        let model = HiFT(config: c, batch: 2, seed: 4)
        try HiFTGradientTests().check(model, HiFTGradientTests.tinyBatch(c, batch: 2, seed: 2),
                                      names: ["decoder.blocks.0.cross_attn.q.weight", "encoder.blocks.1.mlp.fc1.weight", "correlation.traj_y"])
    }
}
