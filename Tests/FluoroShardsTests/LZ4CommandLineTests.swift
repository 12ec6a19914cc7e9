import Foundation
import Testing
@testable import FluoroShards

@Suite struct ShardStreamCLITests {
    typealias S = ShardTestSupport

    /// Runs `lz4 -d` on a file and returns its output. Output goes through a file, not a pipe:
    /// a process that inherits a pipe's write end (Open MPI's singleton daemon, started by an
    /// in-process MPI test) would keep it open and a pipe read would never see EOF.
    private func lz4Decode(_ url: URL) throws -> (status: Int32, output: Data) {
        let decoded = url.appendingPathExtension("out")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["lz4", "-d", "-q", "-f", url.path, decoded.path]
        try process.run()
        process.waitUntilExit()
        return (process.terminationStatus, (try? Data(contentsOf: decoded)) ?? Data())
    }

    @Test func streamsCutOutOfAShardDecodeWithTheLZ4Tool() throws {
        let dir = S.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = [S.sequence(id: "a", frames: 3, height: 20, width: 24, seed: 3, layers: [.vesselness], annotated: true),
                     S.sequence(id: "b", frames: 2, height: 8, width: 8, format: .uint16, seed: 4)]
        let manifest = try S.write(input, to: dir)
        let url = dir.appendingPathComponent(manifest.shards[0].file)
        let bytes = try Data(contentsOf: url)
        let records = try ShardFile(url: url).records
        func cut(_ e: StreamEntry) throws -> URL {
            let piece = dir.appendingPathComponent("piece-\(e.offset).lz4")
            try bytes[Int(e.offset)..<Int(e.offset + UInt64(e.length))].write(to: piece)
            return piece
        }
        let frameBytes = input[0].info.frameBytes
        let pixel = try lz4Decode(try cut(records[0].stream(.pixels)!.entries[1]))
        #expect(pixel.status == 0)
        #expect(pixel.output == input[0].pixels.subdata(in: frameBytes..<(2 * frameBytes)))
        let layer = try lz4Decode(try cut(records[0].stream(.layer(.vesselness))!.entries[2]))
        #expect(layer.output == input[0].layers[.vesselness]!.subdata(in: (2 * frameBytes)..<(3 * frameBytes)))
        let notes = try lz4Decode(try cut(records[0].stream(.annotations)!.entries[0]))
        #expect(try JSONDecoder().decode([FrameAnnotation].self, from: notes.output) == input[0].annotations)
        // 16-bit frames come out as byte planes (low bytes, then high bytes).
        let planes = try lz4Decode(try cut(records[1].stream(.pixels)!.entries[0]))
        let frame = [UInt8](input[1].pixels.prefix(128))
        #expect([UInt8](planes.output) == stride(from: 0, to: 128, by: 2).map { frame[$0] } + stride(from: 1, to: 128, by: 2).map { frame[$0] })
    }
}
