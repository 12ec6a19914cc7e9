import Foundation
import Testing
@testable import FluoroShards

/// Landmark sidecars (JSON and CSV) applied to a run, and every way one can fail to fit.
@Suite struct AnnotationSidecarTests {
    /// A 4-frame 8x6 uint8 run.
    static let run = FrameSequence(info: SequenceInfo(id: "r", frameCount: 4, width: 8, height: 6, pixelFormat: .uint8,
                                                      bitsStored: 8, modality: "XA", source: "test"),
                                   pixels: Data(count: 4 * 48))

    private func scratch() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fluoro-sidecar-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    private func write(_ text: String, _ name: String, in dir: URL) throws -> URL {
        let url = dir.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url
    }

    @Test func jsonAndCSVGiveTheSameAnnotationsAndUnlistedFramesHaveNone() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let json = try write(#"{"frames": [{"frame": 1, "tip": [2.5, 3], "markers": [[1, 1], [7.5, 5.5]]}, {"frame": 3, "occluded": true}]}"#, "a.json", in: dir)
        let csv = try write("frame,tip_x,tip_y,marker1_x,marker1_y,marker2_x,marker2_y,occluded\n1,2.5,3,1,1,7.5,5.5,0\n3,,,,,,,1\n", "a.csv", in: dir)
        let fromJSON = try AnnotationSidecar.read(json).applied(to: Self.run)
        let fromCSV = try AnnotationSidecar.read(csv).applied(to: Self.run)
        #expect(fromJSON.annotations == fromCSV.annotations)
        #expect(fromJSON.annotations.count == 4)
        #expect(fromJSON.annotations[0] == FrameAnnotation())
        #expect(fromJSON.annotations[1] == FrameAnnotation(markers: [Point2(x: 1, y: 1), Point2(x: 7.5, y: 5.5)], tip: Point2(x: 2.5, y: 3)))
        #expect(fromJSON.annotations[3] == FrameAnnotation(occluded: true))
        #expect(fromJSON.layers.isEmpty)
    }

    @Test func npyMasksBecomeTheCatheterMaskLayer() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        var mask = [UInt8](repeating: 0, count: 48)
        mask[10] = 1; mask[11] = 7
        try NumPyIngestTests.npy(descr: "|u1", shape: [6, 8], data: mask).write(to: dir.appendingPathComponent("m2.npy"))
        let json = try write(#"{"frames": [{"frame": 2, "catheter_mask": "m2.npy"}]}"#, "a.json", in: dir)
        let out = try AnnotationSidecar.read(json).applied(to: Self.run)
        let layer = try #require(out.layers[.catheterMask])
        #expect(layer.count == 4 * 48)
        #expect(layer.filter { $0 != 0 }.count == 2)
        #expect(layer[2 * 48 + 10] == 255 && layer[2 * 48 + 11] == 255)
        #expect(out.validationProblem() == nil)
    }

    @Test func aMaskOfTheWrongShapeOrFormatIsRefusedNamingIt() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        try NumPyIngestTests.npy(descr: "|u1", shape: [5, 8], data: [UInt8](repeating: 0, count: 40)).write(to: dir.appendingPathComponent("small.npy"))
        try Data([0x89, 0x50, 0x4E, 0x47]).write(to: dir.appendingPathComponent("m.png"))
        for (name, phrase) in [("small.npy", "expected [6, 8]"), ("m.png", "PNG masks are not decoded")] {
            let json = try write("{\"frames\": [{\"frame\": 0, \"catheter_mask\": \"\(name)\"}]}", "a.json", in: dir)
            let error = #expect(throws: AnnotationError.self) { try AnnotationSidecar.read(json).applied(to: Self.run) }
            #expect("\(error!)".contains(phrase) && "\(error!)".contains(name) && "\(error!)".contains("frame 0"))
        }
    }

    @Test(arguments: [
        ("frame,tip_x,tip_y,marker1_x,marker1_y,marker2_x,marker2_y,occluded\n0,1,1,,,,,0\n4,1,1,,,,,0\n", "line 3 (frame 4): frame 4 is not in the run"),
        ("frame,tip_x,tip_y,marker1_x,marker1_y,marker2_x,marker2_y,occluded\n0,9,1,,,,,0\n", "line 2 (frame 0): tip (9.0, 1.0) lies outside the 8x6 frame"),
        ("frame,tip_x,tip_y,marker1_x,marker1_y,marker2_x,marker2_y,occluded\n0,1,,,,,,0\n", "line 2: tip_x and tip_y must both be given"),
        ("frame,tip_x,tip_y,marker1_x,marker1_y,marker2_x,marker2_y,occluded\n0,1,1,,,,\n", "line 2: 7 cells for 8 columns"),
        ("frame,tip_x,tip_y,marker1_x,marker1_y,marker2_x,marker2_y,occluded\nx,1,1,,,,,0\n", "line 2: frame \"x\" is not an integer"),
        ("frame,tip_x,tip_y,occluded\n0,1,1,0\n", "line 1: the header lacks the column(s) marker1_x"),
        ("frame,tip_x,tip_y,marker1_x,marker1_y,marker2_x,marker2_y,occluded\n1,1,1,,,,,0\n1,2,2,,,,,0\n", "line 3 (frame 1): frame 1 is annotated twice"),
    ])
    func badCSVRowsAreRefusedNamingTheLine(_ text: String, _ phrase: String) throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let csv = try write(text, "run.csv", in: dir)
        let error = #expect(throws: AnnotationError.self) { try AnnotationSidecar.read(csv).applied(to: Self.run) }
        #expect("\(error!)".contains("run.csv " + phrase), "\(error!)")
    }

    @Test(arguments: [
        (#"{"frames": [{"frame": -1}]}"#, "frames[0] (frame -1): frame -1 is not in the run"),
        (#"{"frames": [{"frame": 0, "markers": [[1, 1], [2, 2], [3, 3]]}]}"#, "3 markers"),
        (#"{"frames": [{"frame": 0, "tip": [1]}]}"#, "tip has 1 numbers"),
        (#"{"frames": [{"frame": 2, "markers": [[1, -0.5]]}]}"#, "frames[0] (frame 2): marker 1 (1.0, -0.5) lies outside"),
        (#"{"frames": [{"tip": [1, 1]}]}"#, "has no \"frame\""),
        (#"{"landmarks": []}"#, "has no \"frames\""),
    ])
    func badJSONEntriesAreRefusedNamingTheFrame(_ text: String, _ phrase: String) throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let json = try write(text, "run.json", in: dir)
        let error = #expect(throws: AnnotationError.self) { try AnnotationSidecar.read(json).applied(to: Self.run) }
        #expect("\(error!)".contains("run.json") && "\(error!)".contains(phrase), "\(error!)")
    }
}
