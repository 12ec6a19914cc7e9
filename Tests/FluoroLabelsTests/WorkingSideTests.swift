import FluoroShards
import FluoroSupport
import FluoroTensor
import Foundation
import Testing
@testable import FluoroLabels

/// The U-Net labeller's working side: frames larger than the training frames are reduced by a
/// whole factor, labelled, and their logits brought back to full size.
@Suite struct WorkingSideTests {
    static func info(_ width: Int, _ height: Int, frames: Int = 1) -> SequenceInfo {
        SequenceInfo(id: "ws", frameCount: frames, width: width, height: height, pixelFormat: .uint8, bitsStored: 8, modality: "SYN", source: "test")
    }

    @Test func reductionIsTheRoundedRatioOfTheLongerSide() {
        let labeller = UNetLabeller(config: .tiny, parameters: UNet.makeParameters(.tiny, seed: 1), workingSide: 256)
        #expect(labeller.reduction(for: Self.info(512, 512)) == 2)
        #expect(labeller.reduction(for: Self.info(1024, 768)) == 4)
        #expect(labeller.reduction(for: Self.info(300, 300)) == 1)
        #expect(labeller.reduction(for: Self.info(128, 128)) == 1)
        #expect(labeller.reduction(for: Self.info(384, 100)) == 2)  // 1.5 rounds up
        let asStored = UNetLabeller(config: .tiny, parameters: UNet.makeParameters(.tiny, seed: 1))
        #expect(asStored.reduction(for: Self.info(4096, 4096)) == 1)
    }

    @Test func reduceAveragesBlocksAndPartialEdgeBlocks() {
        // 3 x 5 by 2: blocks of 2x2, 2x1 at the right edge, 1x2 at the bottom, 1x1 in the corner.
        let frame: [Float] = [1, 3, 5, 7, 9,
                              3, 5, 7, 9, 11,
                              10, 20, 30, 40, 50]
        #expect(UNetLabeller.reduce(frame, height: 3, width: 5, by: 2) == [3, 7, 10, 15, 35, 50])
    }

    /// Labelling a frame with k = 2 is: k x k means, standardise, pad, the network at the reduced
    /// size, bilinear x2 of the logits (align_corners = false), crop, quantise.
    @Test func reducedLabellingMatchesItsDefinition() throws {
        Parallel.configure(threads: 1)
        let arena = UNet.makeParameters(.tiny, seed: 4)
        let labeller = UNetLabeller(config: .tiny, parameters: arena, batch: 1, workingSide: 8)
        let (h, w) = (18, 14)                    // reduced 9 x 7, padded to 12 x 8 (tiny's divisor 4)
        var rng = SplitMix64(seed: 9)
        let pixels = Data((0..<(h * w)).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
        let layer = try labeller.label(pixels: pixels, info: Self.info(w, h), frameCount: 1)
        #expect(labeller.reduction(for: Self.info(w, h)) == 2)

        var reduced = [Float](repeating: 0, count: 9 * 7)
        for y in 0..<9 { for x in 0..<7 {
            let block = [(2 * y, 2 * x), (2 * y, 2 * x + 1), (2 * y + 1, 2 * x), (2 * y + 1, 2 * x + 1)]
            reduced[y * 7 + x] = block.map { Float(pixels[$0.0 * w + $0.1]) / 255 }.reduce(0, +) / 4
        } }
        let mean = reduced.reduce(0, +) / 63
        let std = (reduced.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 63).squareRoot()
        var input = [Float](repeating: 0, count: 12 * 8)
        for y in 0..<12 { for x in 0..<8 { input[y * 8 + x] = (reduced[min(y, 8) * 7 + min(x, 6)] - mean) / (std + 1e-6) } }
        let net = try UNet(config: .tiny, batch: 1, height: 12, width: 8, parameters: arena, training: false)
        let logits = input.withUnsafeBufferPointer { Array(UnsafeBufferPointer(start: net.forward($0.baseAddress!), count: 96)) }
        func source(_ o: Int, _ n: Int) -> (Int, Int, Float) {   // PyTorch's align_corners=False taps
            let s = max(0, (Float(o) + 0.5) / 2 - 0.5)
            let i0 = min(Int(s), n - 1)
            return (i0, min(i0 + 1, n - 1), s - Float(i0))
        }
        var worst: Float = 0
        for y in 0..<h { for x in 0..<w {
            let (y0, y1, ly) = source(y, 12), (x0, x1, lx) = source(x, 8)
            let top = (1 - lx) * logits[y0 * 8 + x0] + lx * logits[y0 * 8 + x1]
            let bottom = (1 - lx) * logits[y1 * 8 + x0] + lx * logits[y1 * 8 + x1]
            let p = 1 / (1 + exp(-((1 - ly) * top + ly * bottom)))
            worst = max(worst, abs(p * 255 - Float(layer[y * w + x])))
        } }
        #expect(worst <= 0.51, "a stored byte is off its definition by \(worst)")
    }

    @Test func modelFileRecordsTheTrainingFrameSide() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ws-\(UUID().uuidString).safetensors")
        let arena = UNet.makeParameters(.tiny, seed: 1)
        try LabellerModelFile.write(arena, config: .tiny, provenance: "test", trainingFrameSide: 64, to: url)
        #expect(try LabellerModelFile.load(url).trainingFrameSide == 64)
        #expect(try UNetLabeller(model: url).workingSide == 64)
        #expect(try UNetLabeller(model: url, workingSide: 0).workingSide == nil)
        #expect(try UNetLabeller(model: url, workingSide: 32).workingSide == 32)
        try LabellerModelFile.write(arena, config: .tiny, provenance: "old", trainingFrameSide: nil, to: url)
        #expect(try UNetLabeller(model: url).workingSide == nil)
        var bad = SafetensorsWriter(metadata: ["kind": LabellerModelFile.kind, "config": #"{"channels":[3,4],"bottleneck":5}"#,
                                               "training_frame_side": "-3"])
        arena.write(into: &bad)
        try bad.encoded().write(to: url)
        #expect(throws: UNetError.self) { try LabellerModelFile.load(url) }
    }

    /// docs/models/unet-labeller.safetensors was trained on 256-px frames and says so.
    @Test func committedLabellerWorksAt256() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let labeller = try UNetLabeller(model: root.appendingPathComponent("docs/models/unet-labeller.safetensors"))
        #expect(labeller.workingSide == 256)
    }
}
