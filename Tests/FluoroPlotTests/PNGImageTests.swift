import Foundation
import Testing
@testable import FluoroPlot

@Suite struct PNGImageTests {
    @Test func pngHasSignatureChunksAndInflatesToTheRows() throws {
        var image = RGBImage(width: 3, height: 2, fill: .black)
        image[2, 1] = .red
        let data = try image.pngData()
        #expect(Array(data.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        #expect(String(decoding: data[12..<16], as: UTF8.self) == "IHDR")
        #expect(String(decoding: data.suffix(8).prefix(4), as: UTF8.self) == "IEND")
        // Python's zlib/PNG readers are not a dependency; decode with the system's python if present.
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fluoro-png-\(getpid()).png")
        try image.write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let script = "import zlib,struct,sys;d=open(sys.argv[1],'rb').read();i=d.index(b'IDAT');n=struct.unpack('>I',d[i-4:i])[0];r=zlib.decompress(d[i+4:i+4+n]);print(r.hex())"
        python.arguments = ["python3", "-c", script, url.path]
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("fluoro-png-\(getpid()).txt")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        python.standardOutput = try FileHandle(forWritingTo: out)
        try python.run(); python.waitUntilExit()
        let hex = try String(contentsOf: out, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        try? FileManager.default.removeItem(at: out)
        #expect(hex == "00" + "000000000000000000" + "00" + "000000000000e62828")
    }
}
