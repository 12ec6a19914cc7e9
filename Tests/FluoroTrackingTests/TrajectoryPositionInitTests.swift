import FluoroTensor
import Testing
@testable import FluoroTracking

/// `trajectoryPositionInit`: the trajectory embeddings start as sin-cos codes of their bins, x in
/// the first half of the width and y in the second, so neighbouring bins start alike; off, they are
/// the reference's random rows.
@Suite struct TrajectoryPositionInitTests {
    static func rows(_ model: HiFT, _ name: String) -> [[Float]] {
        let c = model.config, D = c.width, values = model.parameters.valueArray("correlation." + name)
        return (0...c.trajectoryBins).map { Array(values[($0 * D)..<(($0 + 1) * D)]) }
    }

    static func cosine(_ a: [Float], _ b: [Float]) -> Float {
        let dot = zip(a, b).map(*).reduce(0, +)
        return dot / (a.map { $0 * $0 }.reduce(0, +).squareRoot() * b.map { $0 * $0 }.reduce(0, +).squareRoot())
    }

    @Test func binsStartAsSinCosCodesInTheirHalves() {
        var c = HiFTConfig.tiny
        c.trajectoryPositionInit = true
        let model = HiFT(config: c, batch: 1, seed: 4)
        let x = Self.rows(model, "traj_x"), y = Self.rows(model, "traj_y"), half = c.width / 2
        #expect(x[5][half...].allSatisfy { $0 == 0 } && y[5][..<half].allSatisfy { $0 == 0 })
        #expect(abs(x[0][1] - 1) < 1e-6 && abs(y[0][half + 1] - 1) < 1e-6, "cos(0) = 1 at the first odd column of each half")
        #expect(Self.cosine(x[5], x[6]) > Self.cosine(x[5], x[12]) + 0.1)
        var plain = HiFTConfig.tiny
        plain.trajectoryPositionInit = nil
        let random = Self.rows(HiFT(config: plain, batch: 1, seed: 4), "traj_x")
        #expect(random[5][half...].contains { $0 != 0 }, "off: the reference's random rows")
        #expect(Self.rows(model, "traj_x")[c.trajectoryBins] == random[c.trajectoryBins], "row G (no estimate) is left as drawn")
    }
}
