import Foundation
import Testing
@testable import FluoroTensor

@Suite struct SafetensorsTests {
    @Test func roundTripWithMetadata() throws {
        var writer = SafetensorsWriter(metadata: ["config": "{\"D\": 32}"])
        writer.add("a.weight", shape: [2, 3], floats: [1, 2, 3, 4, 5, -6.5])
        writer.add("mask", shape: [4], bytes: [0, 1, 1, 0])
        let file = try SafetensorsFile(bytes: writer.encoded())
        #expect(file.metadata["config"] == "{\"D\": 32}")
        #expect(try file.floats("a.weight", shape: [2, 3]) == [1, 2, 3, 4, 5, -6.5])
        #expect(try file.bytes("mask") == [0, 1, 1, 0])
        #expect(throws: SafetensorsError.self) { try file.floats("a.weight", shape: [3, 2]) }
        #expect(throws: SafetensorsError.self) { try file.floats("missing") }
    }

    /// A stream from the tensors' memory writes the bytes the in-memory writer encodes, and
    /// `copyFloats` reads a tensor straight into place.
    @Test func streamWritesTheWritersBytes() throws {
        let a: [Float] = [1, 2, 3, 4, 5, -6.5], b: [Float] = [], c = (0..<37).map { Float($0) * 0.25 }
        var writer = SafetensorsWriter(metadata: ["config": "{}"])
        var stream = SafetensorsStream(metadata: ["config": "{}"])
        for (name, values, shape) in [("a", a, [2, 3]), ("b", b, [0]), ("c", c, [37])] {
            writer.add(name, shape: shape, floats: values)
            values.withUnsafeBufferPointer { stream.add(name, shape: shape, floats: $0) }  // arrays outlive the stream's use below
        }
        var pieces = 0
        var streamed = Data()
        try a.withUnsafeBufferPointer { _ in try stream.write { streamed.append(contentsOf: $0); pieces += 1 } }
        #expect(streamed == (try writer.encoded()))
        #expect(pieces == 3)  // the header, then a and c from their own memory (b is empty)
        let file = try SafetensorsFile(bytes: streamed)
        var copied = [Float](repeating: 0, count: 37)
        try copied.withUnsafeMutableBufferPointer { try file.copyFloats("c", shape: [37], into: $0) }
        #expect(copied == c)
    }

    @Test func truncatedFileIsAnError() throws {
        var writer = SafetensorsWriter()
        writer.add("x", shape: [100], floats: [Float](repeating: 1, count: 100))
        let bytes = try writer.encoded()
        #expect(throws: SafetensorsError.self) { try SafetensorsFile(bytes: bytes.prefix(bytes.count - 4)) }
        #expect(throws: SafetensorsError.self) { try SafetensorsFile(bytes: bytes.prefix(5)) }
    }

    /// The fixture written by PyTorch's safetensors must parse.
    @Test func readsThePyTorchFixture() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("FluoroModelTests/Fixtures/fimae_sc_tiny_seed0.safetensors")
        let file = try SafetensorsFile(contentsOf: url)
        #expect(file.metadata["config"]?.contains("\"D\": 32") == true)
        #expect(try file.entry("param.encoder.blocks.0.attn.qkv.weight").shape == [96, 32])
        #expect(try file.floats("loss.total").count == 1)
    }
}

@Suite struct SafetensorsHostileHeaderTests {
    private func file(header: String) -> Data {
        var json = Data(header.utf8)
        while json.count % 8 != 0 { json.append(0x20) }
        var out = Data()
        var length = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &length) { out.append(contentsOf: $0) }
        return out + json + Data(count: 16)
    }

    /// Shapes whose element count overflows, or is negative, are malformed files, not traps.
    @Test func impossibleShapesAreErrors() {
        for shape in ["[4294967296, 4294967296, 16]", "[-1, 4]", "[9223372036854775807, 2]"] {
            let bytes = file(header: #"{"x": {"dtype": "F32", "shape": \#(shape), "data_offsets": [0, 16]}}"#)
            #expect(throws: SafetensorsError.self) { try SafetensorsFile(bytes: bytes) }
        }
    }
}
