import Foundation
import Testing
import FluoroShards
@testable import FluoroSim

/// Occlusion, as defined in `SequenceRenderer.occlusion`: a landmark is occluded when the
/// attenuation at its position from contrast and from devices outside its own chain is at least
/// `occlusionFraction` of its own attenuation.
@Suite struct OcclusionTests {
    @Test func nothingCoversTheLandmarksWithoutContrastOrDistractors() {
        let config = SimulatorConfig(frames: 12, size: 96, kind: .fluoro, seed: 13, balloonProbability: 1, distractors: false)
        for index in 0 ..< 4 {
            let s = XRaySimulator(config: config).sequence(index: index)
            #expect(s.annotations.allSatisfy { !$0.occluded }, "sequence \(index)")
        }
    }

    @Test func contrastAtItsPeakOccludesLandmarks() {
        let config = SimulatorConfig(frames: 16, size: 96, kind: .angio, seed: 13, balloonProbability: 1, distractors: false)
        var occludedAtPeak = 0, clearBeforeInjection = 0, framesBeforeInjection = 0
        for index in 0 ..< 4 {
            let scene = Scene(config: config, index: index)
            let s = XRaySimulator(config: config).sequence(index: index)
            for (f, a) in s.annotations.enumerated() {
                let t = Float(f) * Float(config.frameTimeMs) / 1000
                let c = scene.contrast(at: t)
                if c >= 0.8 * scene.contrastPeak && a.occluded { occludedAtPeak += 1 }
                if c == 0 && scene.contrast(at: t, delay: -1) == 0 {   // no contrast anywhere yet
                    framesBeforeInjection += 1
                    if !a.occluded { clearBeforeInjection += 1 }
                }
            }
        }
        #expect(occludedAtPeak > 0)
        #expect(clearBeforeInjection == framesBeforeInjection)
    }

    @Test func aWireAcrossAMarkerOccludesItAndAFarOneDoesNot() throws {
        let config = SimulatorConfig(frames: 6, size: 128, kind: .fluoro, seed: 13, balloonProbability: 1, distractors: false)
        var scene = Scene(config: config, index: 0)
        let marker = try #require(scene.markersAtRest.first)
        let far = V2(0.02, 0.98)
        var base = scene
        // A steel wire across the first marker (moving with the heart, like the marker) ...
        let across = SceneTube(line: Polyline(points: [marker - V2(0.05, -0.05), marker + V2(0.05, -0.05)], radii: [0.3, 0.3]),
                               role: .distractor, mu: Material.steel)
        scene.tubes.append(across)
        let covered = SequenceRenderer(scene: scene, config: config, index: 0).render()
        #expect(covered.annotations.allSatisfy { $0.occluded })
        // ... and one far from every landmark.
        base.tubes.append(SceneTube(line: Polyline(points: [far, far + V2(0.05, 0)], radii: [0.3, 0.3]),
                                    role: .distractor, mu: Material.steel))
        let clear = SequenceRenderer(scene: base, config: config, index: 0).render()
        #expect(clear.annotations.allSatisfy { !$0.occluded })
        // The definition, at one landmark: foreign ≥ fraction × own.
        let renderer = SequenceRenderer(scene: scene, config: config, index: 0)
        let placed = renderer.place(at: 0)
        let p = renderer.landmarks(at: 0).markers[0]
        let o = renderer.occlusion(of: p, ownRole: .marker(0), placed: placed)
        #expect(o.own > 0 && o.foreign >= Float(config.occlusionFraction) * o.own && o.occluded)
    }
}
