import FluoroShards
import FluoroTensor
import Foundation
import Testing
@testable import FluoroTracking

@Suite struct ZZDiagnosticTests {
    @Test func headActivations() throws {
        guard let path = ProcessInfo.processInfo.environment["DIAG_MODEL"] else { return }
        let shards = ProcessInfo.processInfo.environment["DIAG_SHARDS"]!
        Parallel.configure(threads: 1)
        let loaded = try TrackerFile.load(URL(fileURLWithPath: path))
        let B = 8
        let model = HiFT(config: loaded.config, batch: B)
        model.parameters.values.buffer.update(fromContentsOf: loaded.model.parameters.values.buffer)
        let ds = try ShardDataset(directory: URL(fileURLWithPath: shards))
        var c = loaded.config
        c.trajectoryOnlyFraction = 0
        let sampler = try TrackingSampler(dataset: ds, config: c, task: loaded.task)
        let batch = try sampler.batch(first: 0, count: B, seed: 77)
        let heat = batch.past.withUnsafeBufferPointer { p in batch.windows.withUnsafeBufferPointer { w in
            model.forward(window: w.baseAddress!, past: p.baseAddress!, auxiliary: false).heatmap } }
        let head = model.heatmapHead
        for (i, a) in head.activations.enumerated() {
            let C = head.channels[i], s = head.convs[i].height, n = s * s
            var dead = 0, posFrac = 0.0
            for ch in 0..<C {
                var anyPos = false, pos = 0
                for b in 0..<B { for j in 0..<n { if a.pointer[(b * C + ch) * n + j] > 0 { anyPos = true; pos += 1 } } }
                if !anyPos { dead += 1 }
                posFrac += Double(pos) / Double(B * n)
            }
            print("stage \(i): \(C) channels at \(s)px, dead \(dead), mean positive fraction \(posFrac / Double(C))")
        }
        let S = c.crop
        for b in 0..<B {
            var mx: Float = -100, arg = 0
            for j in 0..<(S * S) where heat[b * S * S + j] > mx { mx = heat[b * S * S + j]; arg = j }
            let tx = batch.current[2 * b * c.landmarks], ty = batch.current[2 * b * c.landmarks + 1]
            let ti = Int(ty.rounded()) * S + Int(tx.rounded())
            let atTarget = (ti >= 0 && ti < S * S) ? 1 / (1 + exp(-heat[b * S * S + ti])) : -1
            print(String(format: "sample %d: peak p %.3f at (%d,%d); target0 (%.1f,%.1f) p %.3f", b, 1 / (1 + exp(-mx)), arg % S, arg / S, tx, ty, atTarget))
        }
    }
}
