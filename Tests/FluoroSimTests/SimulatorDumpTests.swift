import Foundation
import Testing
import FluoroShards
@testable import FluoroSim

/// Writes sample frames as PGM files for the docs picture, when FLUORO_SIM_DUMP names a folder:
/// `FLUORO_SIM_DUMP=/tmp/sim swift test --skip-build --filter SimulatorDumpTests`.
@Suite struct SimulatorDumpTests {
    static let folder = ProcessInfo.processInfo.environment["FLUORO_SIM_DUMP"]

    @Test(.enabled(if: folder != nil)) func dumpSampleFrames() throws {
        let folder = try #require(SimulatorDumpTests.folder)
        let size = Int(ProcessInfo.processInfo.environment["FLUORO_SIM_DUMP_SIZE"] ?? "") ?? 512
        let count = Int(ProcessInfo.processInfo.environment["FLUORO_SIM_DUMP_COUNT"] ?? "") ?? 4
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for kind in [RunKind.angio, .fluoro] {
            let simulator = XRaySimulator(config: SimulatorConfig(frames: 24, size: size, kind: kind, seed: 7))
            for index in 0 ..< count {
                let s = simulator.sequence(index: index)
                #expect(s.validationProblem() == nil)
                // The frame with the most vesselness (peak contrast) for angio, the middle one otherwise.
                let area = size * size
                let soft = try #require(s.layers[.vesselness])
                let frame = kind == .angio
                    ? (0 ..< 24).max { a, b in soft[a * area ..< (a + 1) * area].reduce(0) { $0 + Int($1) } < soft[b * area ..< (b + 1) * area].reduce(0) { $0 + Int($1) } }!
                    : 12
                let name = "\(folder)/\(kind.rawValue)-\(index)"
                try writePGM(s.pixels[frame * area ..< (frame + 1) * area], size: size, to: name + ".pgm")
                for (layer, data) in s.layers {
                    try writePGM(data[frame * area ..< (frame + 1) * area], size: size, to: name + "-\(layer.rawValue).pgm")
                }
                let a = s.annotations[frame]
                let text = "tip \(a.tip.map { "\($0.x) \($0.y)" } ?? "none") markers \(a.markers.map { "\($0.x) \($0.y)" }) occluded \(a.occluded)\n"
                try text.write(toFile: name + ".txt", atomically: true, encoding: .utf8)
            }
        }
    }

    private func writePGM(_ bytes: Data, size: Int, to path: String) throws {
        var out = Data("P5\n\(size) \(size)\n255\n".utf8)
        out.append(bytes)
        try out.write(to: URL(fileURLWithPath: path))
    }
}
