import FluoroShards
import FluoroTensor
import Foundation

/// Turns stored frames into the `.vesselness` layer with a trained U-Net: each frame scaled to
/// [0, 1], standardised, edge-padded to a multiple of 16 (the network's divisor), labelled
/// `batch` frames per pass (the passes' convolutions run one frame per thread), the sigmoid cropped
/// back and stored as round(p · 255) like Frangi's layer.
public final class UNetLabeller {
    public let config: UNetConfig
    public let parameters: ParameterArena
    /// Frames per forward pass (the parallelism: one frame per thread).
    public let batch: Int
    private var nets: [[Int]: UNet] = [:]

    public init(model: URL, batch: Int = 1) throws {
        (config, parameters) = try LabellerModelFile.load(model)
        self.batch = max(1, batch)
    }

    public init(config: UNetConfig, parameters: ParameterArena, batch: Int = 1) {
        self.config = config; self.parameters = parameters; self.batch = max(1, batch)
    }

    /// The padded side for a frame side: the next multiple of the divisor.
    public func padded(_ side: Int) -> Int { (side + config.divisor - 1) / config.divisor * config.divisor }

    /// The layer for `frameCount` frames of `info` as stored: [n, H, W] -> [n, H, W] UInt8.
    public func label(pixels: Data, info: SequenceInfo, frameCount n: Int) throws -> Data {
        guard pixels.count == n * info.frameBytes else {
            throw LabelError.pixelSize(sequence: info.id, expected: n * info.frameBytes, got: pixels.count)
        }
        guard info.width >= 1, info.height >= 1, info.width <= 8192, info.height <= 8192 else {
            throw UNetError.frameSize(width: info.width, height: info.height, reason: "the U-Net labels frames of 1...8192 px a side")
        }
        let (H, W) = (padded(info.height), padded(info.width))
        var layer = Data(count: n * info.width * info.height)
        var start = 0
        while start < n {
            let count = min(batch, n - start)
            let net = try network(batch: count, height: H, width: W)
            let input = FloatBuffer(count: count * H * W)
            for j in 0..<count { prepare(pixels, frame: start + j, info: info, into: input.pointer + j * H * W, H, W) }
            let logits = net.forward(input.pointer)
            layer.withUnsafeMutableBytes { raw in
                let out = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
                for j in 0..<count {
                    for y in 0..<info.height {
                        let src = logits + j * H * W + y * W, dst = out + (start + j) * info.width * info.height + y * info.width
                        for x in 0..<info.width { dst[x] = VesselnessQuantiser.byte(logit: src[x]) }
                    }
                }
            }
            start += count
        }
        return layer
    }

    /// One frame, standardised over its own pixels, edge-replicated into out [H, W].
    func prepare(_ pixels: Data, frame t: Int, info: SequenceInfo, into out: UnsafeMutablePointer<Float>, _ H: Int, _ W: Int) {
        let (h, w) = (info.height, info.width)
        var frame = [Float](repeating: 0, count: h * w)
        frame.withUnsafeMutableBufferPointer {
            FramePixels.unit(pixels, frame: t, info: info, into: $0.baseAddress!)
            FramePixels.standardise($0.baseAddress!, count: h * w)
        }
        for y in 0..<H {
            let row = min(y, h - 1) * w
            for x in 0..<W { out[y * W + x] = frame[row + min(x, w - 1)] }
        }
    }

    /// The network for this batch and padded size (built once, sharing the parameters).
    func network(batch: Int, height: Int, width: Int) throws -> UNet {
        if let net = nets[[batch, height, width]] { return net }
        let net = try UNet(config: config, batch: batch, height: height, width: width, parameters: parameters, training: false)
        nets[[batch, height, width]] = net
        return net
    }

    /// The whole layer of sequence `index` of `dataset`, `chunk` frames at a time;
    /// `progress(frames)` after each chunk with the frames done so far in this sequence.
    public func label(dataset: ShardDataset, sequence index: Int, chunk: Int = 8, progress: (Int) -> Void = { _ in }) throws -> Data {
        let info = dataset.info(sequence: index)
        var layer = Data(capacity: info.frameCount * info.width * info.height)
        var start = 0
        while start < info.frameCount {
            let end = min(start + max(1, chunk), info.frameCount)
            layer.append(try label(pixels: try dataset.frames(sequence: index, range: start..<end), info: info, frameCount: end - start))
            progress(end)
            start = end
        }
        return layer
    }
}
