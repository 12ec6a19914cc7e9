import Foundation
import Testing

/// `fluoro figure simulator-vs-real` and `fluoro figure frangi` on the two real runs of the fixtures.
@Suite struct FigureCommandTests {
    static let dicomDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("FluoroShardsTests/Fixtures/dicom")

    private func scratch() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fluoro-figure-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Width and height from a PNG's IHDR chunk, or nil when `data` is not a PNG.
    private func pngSize(_ data: Data) -> (width: Int, height: Int)? {
        let bytes = [UInt8](data)
        guard bytes.count > 24, bytes[0 ..< 8] == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] else { return nil }
        let word = { (at: Int) in bytes[at ..< at + 4].reduce(0) { $0 << 8 | Int($1) } }
        return (word(16), word(20))
    }

    /// Runs `fluoro figure <name> --real fixtures --out DIR/name.png --panel <panel>` and returns the PNG's size.
    private func draw(_ name: String, panel: Int) throws -> (width: Int, height: Int)? {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("\(name).png")
        let result = try FluoroBinary.run(["figure", name, "--real", Self.dicomDirectory.path, "--out", out.path,
                                           "--panel", "\(panel)"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("wrote \(out.path)"))
        return pngSize(try Data(contentsOf: out))
    }

    @Test func simulatorVsRealWritesThreeByTwoPanels() throws {
        let size = try draw("simulator-vs-real", panel: 64)
        #expect(size?.width == 192 && size?.height == 128)
    }

    @Test func frangiWritesTwoByTwoPanels() throws {
        let size = try draw("frangi", panel: 96)
        #expect(size?.width == 192 && size?.height == 192)
    }

    @Test(arguments: ["simulator-vs-real", "frangi"])
    func directoryWithoutDICOMIsAClearError(name: String) throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data("not a DICOM file".utf8).write(to: dir.appendingPathComponent("README.md"))
        let out = dir.appendingPathComponent("figure.png")
        let result = try FluoroBinary.run(["figure", name, "--real", dir.path, "--out", out.path])
        #expect(result.status != 0)
        #expect(result.stderr.contains("no DICOM files in \(dir.path)"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }
}
