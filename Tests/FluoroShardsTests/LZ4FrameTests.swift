import Foundation
import Testing
@testable import FluoroShards

@Suite struct LZ4FrameTests {
    /// 8-bit "image" bytes: smooth ramp plus pseudo-noise, like a frame.
    private func sampleBytes(count: Int) -> Data {
        var state: UInt32 = 12345
        return Data((0..<count).map { i -> UInt8 in
            state = state &* 1_664_525 &+ 1_013_904_223
            // Noise on one pixel in eight: compressible, like a flat region of a frame.
            return UInt8(truncatingIfNeeded: (i / 97) + (i % 8 == 0 ? Int(state >> 29) : 0))
        })
    }

    @Test func roundTrip() throws {
        let input = sampleBytes(count: 300_000)
        let frame = try LZ4Frame.compress(input)
        #expect(frame.count < input.count)
        #expect(try LZ4Frame.decompress(frame) == input)
    }

    /// Compressing into a caller's (reused) buffer gives the same frame as `compress`.
    @Test func compressIntoBufferMatches() throws {
        let input = sampleBytes(count: 300_000)
        let expected = try LZ4Frame.compress(input)
        let bound = LZ4Frame.compressBound(input.count)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bound + 100, alignment: 16)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: 0xAB)  // leftovers of an earlier frame
        let written = try input.withUnsafeBytes { try LZ4Frame.compress($0, into: buffer) }
        #expect(Data(buffer.prefix(written)) == expected)
        let small = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<(bound - 1)])
        #expect(throws: LZ4FrameError.self) { try input.withUnsafeBytes { try LZ4Frame.compress($0, into: small) } }
    }

    @Test func emptyInputRoundTrips() throws {
        let frame = try LZ4Frame.compress(Data())
        let back = try frame.withUnsafeBytes { src -> Data in
            var out = Data()
            try out.withUnsafeMutableBytes { try LZ4Frame.decompress(src, into: $0) }
            return out
        }
        #expect(back.isEmpty)
    }

    /// The frame must be a standard one: the `lz4` CLI decodes it and checks its checksum.
    @Test func lz4CommandLineDecodesOurFrames() throws {
        let input = sampleBytes(count: 5_000_000)  // > one 4 MB block
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fluoro-lz4-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let compressed = dir.appendingPathComponent("x.lz4"), decoded = dir.appendingPathComponent("x.raw")
        try LZ4Frame.compress(input).write(to: compressed)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["lz4", "-d", "-q", "-f", compressed.path, decoded.path]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(try Data(contentsOf: decoded) == input)
    }

    @Test func flippedByteIsCaught() throws {
        var frame = try LZ4Frame.compress(sampleBytes(count: 100_000))
        frame[frame.count / 2] ^= 0x40
        #expect(throws: LZ4FrameError.self) { try LZ4Frame.decompress(frame) }
    }

    @Test func truncatedFrameIsCaught() throws {
        let frame = try LZ4Frame.compress(sampleBytes(count: 100_000))
        for cut in [frame.count - 1, frame.count / 2, 20] {
            #expect(throws: LZ4FrameError.self) { try LZ4Frame.decompress(frame.prefix(cut)) }
        }
    }
}
