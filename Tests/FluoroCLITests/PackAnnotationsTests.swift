import FluoroShards
import Foundation
import Testing

/// `fluoro pack --annotations`: landmark sidecars stored with clinical runs, read back through the dataset.
@Suite struct PackAnnotationsTests {
    private func scratch() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fluoro-pack-ann-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A uint8 `.npy` [T, H, W] (v1 header, as numpy.save writes it) filled with `fill`.
    private func npy(_ shape: [Int], fill: UInt8) -> Data {
        var header = "{'descr': '|u1', 'fortran_order': False, 'shape': (\(shape.map(String.init).joined(separator: ", "))), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        let n = UInt16(header.utf8.count)
        let bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(n & 0xFF), UInt8(n >> 8)] + Array(header.utf8)
        return Data(bytes) + Data(repeating: fill, count: shape.reduce(1, *))
    }

    @Test func jsonForOneInputAndCSVByDirectoryRoundTrip() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = dir.appendingPathComponent("a.npy"), b = dir.appendingPathComponent("b.npy")
        try npy([3, 6, 8], fill: 10).write(to: a)
        try npy([2, 6, 8], fill: 20).write(to: b)
        let json = dir.appendingPathComponent("a-landmarks.json")
        try Data(#"{"frames": [{"frame": 2, "tip": [4, 5], "markers": [[1, 2], [3, 4]], "occluded": true}]}"#.utf8).write(to: json)
        let one = dir.appendingPathComponent("one")
        let r1 = try FluoroBinary.run(["pack", "--out", one.path, "--annotations", json.path, a.path])
        #expect(r1.status == 0, "\(r1.stdout)\(r1.stderr)")
        let ds1 = try ShardDataset(directory: one)
        let stored = try ds1.annotations(sequence: 0)
        #expect(stored.count == 3)
        #expect(stored[0] == FrameAnnotation() && stored[1] == FrameAnnotation())
        #expect(stored[2] == FrameAnnotation(markers: [Point2(x: 1, y: 2), Point2(x: 3, y: 4)], tip: Point2(x: 4, y: 5), occluded: true))

        let sidecars = dir.appendingPathComponent("sidecars")
        try FileManager.default.createDirectory(at: sidecars, withIntermediateDirectories: true)
        try Data("frame,tip_x,tip_y,marker1_x,marker1_y,marker2_x,marker2_y,occluded\n1,7.5,0.5,,,,,1\n".utf8)
            .write(to: sidecars.appendingPathComponent("b.csv"))
        let two = dir.appendingPathComponent("two")
        let r2 = try FluoroBinary.run(["pack", "--out", two.path, "--annotations", sidecars.path, a.path, b.path])
        #expect(r2.status == 0, "\(r2.stdout)\(r2.stderr)")
        let ds2 = try ShardDataset(directory: two)
        let byFrames = Dictionary(uniqueKeysWithValues: (0..<2).map { (ds2.info(sequence: $0).frameCount, $0) })
        #expect(try ds2.annotations(sequence: try #require(byFrames[3])).isEmpty)  // a.npy has no a.json/a.csv there
        let bAnnotations = try ds2.annotations(sequence: try #require(byFrames[2]))
        #expect(bAnnotations == [FrameAnnotation(), FrameAnnotation(tip: Point2(x: 7.5, y: 0.5), occluded: true)])
    }

    @Test func aSidecarThatDoesNotFitIsReportedAndItsRunNotPacked() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = dir.appendingPathComponent("a.npy")
        try npy([3, 6, 8], fill: 10).write(to: a)
        let csv = dir.appendingPathComponent("a.csv")
        try Data("frame,tip_x,tip_y,marker1_x,marker1_y,marker2_x,marker2_y,occluded\n0,1,1,,,,,0\n3,1,1,,,,,0\n".utf8).write(to: csv)
        let out = dir.appendingPathComponent("ds")
        let result = try FluoroBinary.run(["pack", "--out", out.path, "--annotations", csv.path, a.path])
        #expect(result.status == 3)
        #expect(result.stdout.contains("a.csv line 3 (frame 3): frame 3 is not in the run (frames 0..<3)"), "\(result.stdout)")
        #expect(try ShardDataset(directory: out).sequenceCount == 0)

        let b = dir.appendingPathComponent("b.npy")
        try npy([2, 6, 8], fill: 20).write(to: b)
        let many = try FluoroBinary.run(["pack", "--out", out.path, "--annotations", csv.path, a.path, b.path])
        #expect(many.status != 0)
        #expect(many.stderr.contains("is one sidecar but the inputs hold 2 files"), "\(many.stderr)")
    }
}
