import Foundation
import Testing

/// `fluoro evaluate` on a small simulated test set: the baselines, and clear errors.
@Suite struct EvaluateCommandTests {
    static func scratch() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fluoro-evaluate-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func baselinesWriteJSONAndPerFrameCSV() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let shards = dir.appendingPathComponent("test").path
        let synth = try FluoroBinary.run(["synth", "--out", shards, "--sequences", "2", "--frames", "8", "--size", "96",
                                          "--seed", "901", "--kind", "fluoro", "--threads", "1"])
        #expect(synth.status == 0, "stderr: \(synth.stderr)")
        let csv = dir.appendingPathComponent("frames.csv"), plots = dir.appendingPathComponent("plots")
        let result = try FluoroBinary.run(["evaluate", "--shards", shards, "--task", "tip", "--baseline", "ncc",
                                           "--baseline", "still", "--json", "--per-frame", csv.path,
                                           "--plots", plots.path, "--threads", "1"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        #expect(json.map { $0["method"] as? String } == ["ncc", "still"])
        let groups = try #require(json[0]["groups"] as? [[String: Any]])
        #expect(groups.contains { $0["split"] as? String == "all" && $0["frames"] as? Int == 2 * 7 })

        let lines = try String(contentsOf: csv, encoding: .utf8).split(separator: "\n")
        #expect(lines.first == "run,frame,landmark,estimate_x,estimate_y,truth_x,truth_y,error_px,error_mm,occluded,lost,method,init")
        #expect(lines.count == 1 + 2 * 2 * 8, "2 methods x 2 runs x 8 frames")
        #expect(lines.dropFirst().allSatisfy { $0.split(separator: ",", omittingEmptySubsequences: false).count == 13 })
        let figures = try FileManager.default.contentsOfDirectory(atPath: plots.path)
        #expect(Set(figures).isSuperset(of: ["error-cdf.png", "worst-1-trajectory.png", "worst-2-strip.png"]))
    }

    @Test func tableIsTheDefaultAndBadModelsAreClearErrors() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let shards = dir.appendingPathComponent("test").path
        let synth = try FluoroBinary.run(["synth", "--out", shards, "--sequences", "1", "--frames", "4", "--size", "64",
                                          "--seed", "902", "--kind", "fluoro", "--balloon-probability", "0", "--threads", "1"])
        #expect(synth.status == 0, "stderr: \(synth.stderr)")
        let table = try FluoroBinary.run(["evaluate", "--shards", shards, "--task", "tip"])
        #expect(table.status == 0, "stderr: \(table.stderr)")
        #expect(table.stdout.contains("ncc") && table.stdout.contains("still") && table.stdout.contains("fail %"))

        let markers = try FluoroBinary.run(["evaluate", "--shards", shards, "--task", "markers"])
        #expect(markers.status != 0)
        #expect(markers.stderr.contains(shards) && markers.stderr.contains("--task markers"), "stderr: \(markers.stderr)")

        let model = try FluoroBinary.run(["evaluate", "--shards", shards, "--task", "tip", "--model", "x.safetensors"])
        #expect(model.status != 0 && model.stderr.contains("x.safetensors"), "stderr: \(model.stderr)")
    }
}
