import Foundation
import Testing
import FluoroShards
@testable import FluoroSim

@Suite struct XRaySimulatorTests {
    @Test func sameSeedAndIndexGiveIdenticalBytes() {
        let config = SimulatorConfig(frames: 4, size: 64, kind: .mixed, seed: 42)
        let a = XRaySimulator(config: config).sequence(index: 3)
        let b = XRaySimulator(config: config).sequence(index: 3)
        #expect(a.pixels == b.pixels)
        #expect(a.layers == b.layers)
        #expect(a.annotations == b.annotations)
        #expect(a.info == b.info)
        let c = XRaySimulator(config: config).sequence(index: 4)
        #expect(a.pixels != c.pixels)
        var other = config
        other.seed = 43
        #expect(XRaySimulator(config: other).sequence(index: 3).pixels != a.pixels)
    }

    @Test func parallelGenerationMatchesSequentialInIndexOrder() throws {
        let simulator = XRaySimulator(config: SimulatorConfig(frames: 2, size: 48, seed: 9))
        var seen: [String] = []
        var pixels: [Data] = []
        simulator.sequences(5 ..< 11, threads: 3) { s in
            seen.append(s.info.id)
            pixels.append(s.pixels)
        }
        #expect(seen == (5 ..< 11).map { "syn-9-\($0)" })
        #expect(pixels == (5 ..< 11).map { simulator.sequence(index: $0).pixels })
    }

    struct Stop: Error {}

    @Test func aThrowingBodyStopsGeneration() {
        let simulator = XRaySimulator(config: SimulatorConfig(frames: 1, size: 32, seed: 1))
        var delivered = 0
        #expect(throws: Stop.self) {
            try simulator.sequences(0 ..< 50, threads: 2) { _ in
                delivered += 1
                if delivered == 2 { throw Stop() }
            }
        }
        #expect(delivered == 2)
    }

    @Test(arguments: [64, 200, 512])
    func anySizeWorks(size: Int) throws {
        let config = SimulatorConfig(frames: size == 512 ? 2 : 3, size: size, kind: .angio, seed: 5)
        let s = XRaySimulator(config: config).sequence(index: 1)
        #expect(s.validationProblem() == nil)
        #expect(s.info.width == size && s.info.height == size)
        #expect(s.info.pixelFormat == .uint8 && s.info.bitsStored == 8)
        #expect(s.info.modality == "SYN" && s.info.source == "synth:angio" && s.info.id == "syn-5-1")
        #expect(s.info.frameTimeMs == config.frameTimeMs)
        #expect(s.info.pixelSpacingMm == [config.pixelSpacingMm, config.pixelSpacingMm])
        for kind in [LayerKind.vesselMask, .catheterMask] {
            let layer = try #require(s.layers[kind])
            #expect(layer.allSatisfy { $0 == 0 || $0 == 255 })
            #expect(layer.contains(255))
        }
        #expect(try #require(s.layers[.vesselness]).contains { $0 > 0 })
        #expect(s.annotations.count == config.frames)
    }

    @Test func fluoroRunsCarryNoContrast() throws {
        let config = SimulatorConfig(frames: 6, size: 96, kind: .fluoro, seed: 11, balloonProbability: 0, distractors: false)
        let m = FrameMeasures(size: 96)
        for index in 0 ..< 3 {
            let s = XRaySimulator(config: config).sequence(index: index)
            #expect(s.validationProblem() == nil)
            #expect(s.info.source == "synth:fluoro")
            #expect(try #require(s.layers[.vesselness]).allSatisfy { $0 == 0 })
            #expect(try #require(s.layers[.vesselMask]).contains(255), "the vessel mask marks the vessels even without contrast")
            // Exactly: without contrast the vessels add no attenuation, so removing them changes no pixel.
            var scene = Scene(config: config, index: index)
            scene.tubes.removeAll { $0.role == .vessel }
            #expect(SequenceRenderer(scene: scene, config: config, index: index).render().pixels == s.pixels)
            // And by eye: the vessel region is not darker than a ring around it (beyond the slow
            // curvature of the heart shadow, whose outline the vessels follow).
            let field = fieldMask(config: config, index: index, shrink: 6)
            let catheters = try #require(s.layers[.catheterMask]), vessels = try #require(s.layers[.vesselMask])
            for f in [0, 5] {
                let cath = m.dilate(m.frame(catheters, f), by: 4)
                let rings = try #require(m.maskAndRing(m.frame(s.pixels, f), mask: m.frame(vessels, f),
                                                       r1: 3, r2: 6, field: field, exclude: cath))
                #expect(rings.inside > rings.ring - 8, "vessels are not darker than their surroundings without contrast")
            }
        }
    }

    @Test func angioVesselsAreDarkAndVesselnessHighAtPeakContrast() throws {
        let config = SimulatorConfig(frames: 16, size: 96, kind: .angio, seed: 3, distractors: false)
        let m = FrameMeasures(size: 96)
        for index in 0 ..< 3 {
            let s = XRaySimulator(config: config).sequence(index: index)
            let soft = try #require(s.layers[.vesselness]), masks = try #require(s.layers[.vesselMask])
            let peak = (0 ..< 16).max { m.frame(soft, $0).reduce(0) { $0 + Int($1) } < m.frame(soft, $1).reduce(0) { $0 + Int($1) } }!
            let mask = m.frame(masks, peak), v = m.frame(soft, peak)
            let field = fieldMask(config: config, index: index, shrink: 6)
            let catheters = try #require(s.layers[.catheterMask])
            let cath = m.dilate(m.frame(catheters, peak), by: 3)
            let rings = try #require(m.maskAndRing(m.frame(s.pixels, peak), mask: mask, r1: 3, r2: 6, field: field, exclude: cath))
            #expect(rings.inside < rings.ring - 10, "opacified vessels must be darker than the background")
            let onVessel = try #require(m.mean(v) { mask[$0] > 0 })
            #expect(onVessel > 100)
            #expect((0 ..< m.area).allSatisfy { mask[$0] == 255 || v[$0] == 0 }, "vesselness only on vessels")
        }
    }

    @Test func outsideTheCollimatorIsBlack() throws {
        let config = SimulatorConfig(frames: 2, size: 128, seed: 8)
        for index in 0 ..< 4 {
            let s = XRaySimulator(config: config).sequence(index: index)
            let scene = Scene(config: config, index: index)
            let gain = scene.detector.gainMap(size: 128)
            let m = FrameMeasures(size: 128)
            let open = m.dilate(gain.map { $0 > 0 ? 1 : 0 }, by: 3)
            let outside = (0 ..< m.area).filter { !open[$0] }
            #expect(outside.count > 100, "the collimator leaves the corners dark")
            for f in 0 ..< 2 {
                let px = m.frame(s.pixels, f)
                #expect(outside.allSatisfy { px[$0] <= 3 })
                #expect(try #require(m.mean(px) { open[$0] }) > 20)
            }
        }
    }

    @Test func configDecodesFromAnySubsetOfFields() throws {
        let json = Data(#"{"size": 128, "kind": "fluoro", "distractors": false}"#.utf8)
        let c = try JSONDecoder().decode(SimulatorConfig.self, from: json)
        #expect(c.size == 128 && c.kind == .fluoro && !c.distractors && c.frames == SimulatorConfig().frames)
        let round = try JSONDecoder().decode(SimulatorConfig.self, from: JSONEncoder().encode(c))
        #expect(round == c)
        #expect(SimulatorConfig(size: 4).validationProblem() != nil)
        #expect(SimulatorConfig().validationProblem() == nil)
    }

    /// Pixels well inside the collimated field (gain > 0 after eroding by `shrink` pixels).
    func fieldMask(config: SimulatorConfig, index: Int, shrink: Int) -> [Bool] {
        let gain = Scene(config: config, index: index).detector.gainMap(size: config.size)
        let m = FrameMeasures(size: config.size)
        let closed = m.dilate(gain.map { $0 > 0.5 ? 0 : 1 }, by: shrink)
        return closed.map { !$0 }
    }
}
