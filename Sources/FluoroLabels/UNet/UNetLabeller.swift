import FluoroShards
import FluoroTensor
import Foundation

/// Turns stored frames into the `.vesselness` layer with a trained U-Net: each frame scaled to
/// [0, 1], reduced to the labeller's working side (below), standardised, edge-padded to a multiple
/// of 16 (the network's divisor), labelled `batch` frames per pass (the passes' convolutions run
/// one frame per thread), the logits brought back to the frame's size (bilinear), and the sigmoid
/// stored as round(p · 255) like Frangi's layer.
///
/// Working side: a U-Net learns vessels at the width in pixels its training frames show them, and
/// the simulator's field of view is fixed, so a labeller trained on 256-px frames sees a 512-px
/// frame's vessels twice as wide as it learned them. Frames are therefore reduced by the whole
/// factor k = round(longer side / working side) (a k x k mean; k = 1 leaves them as they are), as
/// Frangi's scales follow the frame side (METHOD §9). The working side defaults to the model's
/// training frame side; nil labels every frame as stored.
public final class UNetLabeller {
    public let config: UNetConfig
    public let parameters: ParameterArena
    /// Frames per forward pass (the parallelism: one frame per thread).
    public let batch: Int
    /// The frame side the network labels at (see above), or nil to label frames as stored.
    public let workingSide: Int?
    private var nets: [[Int]: UNet] = [:]

    /// A labeller from a model file. `workingSide`: nil takes the file's training frame side (frames
    /// as stored when the file does not record one), 0 labels frames as stored, N > 0 at N px.
    public init(model: URL, batch: Int = 1, workingSide: Int? = nil) throws {
        let contents = try LabellerModelFile.load(model)
        config = contents.config; parameters = contents.parameters
        self.batch = max(1, batch)
        let side = workingSide ?? contents.trainingFrameSide ?? 0
        self.workingSide = side > 0 ? side : nil
    }

    public init(config: UNetConfig, parameters: ParameterArena, batch: Int = 1, workingSide: Int? = nil) {
        self.config = config; self.parameters = parameters; self.batch = max(1, batch); self.workingSide = workingSide
    }

    /// The padded side for a frame side: the next multiple of the divisor.
    public func padded(_ side: Int) -> Int { (side + config.divisor - 1) / config.divisor * config.divisor }

    /// The reduction factor k for frames of `info` (1 = labelled as stored).
    public func reduction(for info: SequenceInfo) -> Int {
        guard let workingSide, workingSide >= 1 else { return 1 }
        return max(1, Int((Double(max(info.width, info.height)) / Double(workingSide)).rounded()))
    }

    /// The layer for `frameCount` frames of `info` as stored: [n, H, W] -> [n, H, W] UInt8.
    public func label(pixels: Data, info: SequenceInfo, frameCount n: Int) throws -> Data {
        guard pixels.count == n * info.frameBytes else {
            throw LabelError.pixelSize(sequence: info.id, expected: n * info.frameBytes, got: pixels.count)
        }
        guard info.width >= 1, info.height >= 1, info.width <= 8192, info.height <= 8192 else {
            throw UNetError.frameSize(width: info.width, height: info.height, reason: "the U-Net labels frames of 1...8192 px a side")
        }
        let k = reduction(for: info)
        let (h, w) = ((info.height + k - 1) / k, (info.width + k - 1) / k)  // the reduced frame
        let (H, W) = (padded(h), padded(w))                                    // the network's input
        var layer = Data(count: n * info.width * info.height)
        var start = 0
        while start < n {
            let count = min(batch, n - start)
            let net = try network(batch: count, height: H, width: W)
            let input = FloatBuffer(count: count * H * W)
            Parallel.forEach(count) { j in
                prepare(pixels, frame: start + j, info: info, reduction: k, into: input.pointer + j * H * W, H, W)
            }
            let logits = net.forward(input.pointer)                            // [count, H, W]
            layer.withUnsafeMutableBytes { raw in
                let out = raw.baseAddress!.assumingMemoryBound(to: UInt8.self) + start * info.width * info.height
                Parallel.forEach(count) { j in
                    store(logits + j * H * W, H, W, reduction: k, into: out + j * info.width * info.height, info.height, info.width)
                }
            }
            start += count
        }
        return layer
    }

    /// One frame's logits [H, W] (the reduced, padded frame) -> its bytes [height, width]: the
    /// logits brought back up by k (bilinear, align_corners = false), cropped, quantised.
    func store(_ logits: UnsafePointer<Float>, _ H: Int, _ W: Int, reduction k: Int, into out: UnsafeMutablePointer<UInt8>,
               _ height: Int, _ width: Int) {
        var source = logits
        let full = FloatBuffer(count: k > 1 ? H * k * W * k : 0)              // [H·k, W·k]
        if k > 1 {
            Upsample.bilinearForward(output: full.pointer, input: logits, shape: .init(batch: 1, channels: 1, height: H, width: W, factor: k))
            source = UnsafePointer(full.pointer)
        }
        let stride = W * k
        for y in 0..<height {
            let src = source + y * stride, dst = out + y * width
            for x in 0..<width { dst[x] = VesselnessQuantiser.byte(logit: src[x]) }
        }
    }

    /// One frame in [0, 1], reduced by k (k x k means; edge blocks average the pixels they have),
    /// standardised over its own pixels, edge-replicated into out [H, W].
    func prepare(_ pixels: Data, frame t: Int, info: SequenceInfo, reduction k: Int, into out: UnsafeMutablePointer<Float>,
                 _ H: Int, _ W: Int) {
        var frame = [Float](repeating: 0, count: info.height * info.width)
        frame.withUnsafeMutableBufferPointer { FramePixels.unit(pixels, frame: t, info: info, into: $0.baseAddress!) }
        if k > 1 { frame = Self.reduce(frame, height: info.height, width: info.width, by: k) }
        let (h, w) = ((info.height + k - 1) / k, (info.width + k - 1) / k)
        frame.withUnsafeMutableBufferPointer { FramePixels.standardise($0.baseAddress!, count: h * w) }
        for y in 0..<H {
            let row = min(y, h - 1) * w
            for x in 0..<W { out[y * W + x] = frame[row + min(x, w - 1)] }
        }
    }

    /// [height, width] -> [ceil(height/k), ceil(width/k)]: the mean of each k x k block.
    static func reduce(_ frame: [Float], height: Int, width: Int, by k: Int) -> [Float] {
        let (h, w) = ((height + k - 1) / k, (width + k - 1) / k)
        var sums = [Float](repeating: 0, count: h * w)
        for y in 0..<height {
            let dst = (y / k) * w
            for x in 0..<width { sums[dst + x / k] += frame[y * width + x] }
        }
        for by in 0..<h {  // a block's pixel count: k x k, fewer along the bottom and right edges
            let rows = min(k, height - by * k)
            for bx in 0..<w { sums[by * w + bx] /= Float(rows * min(k, width - bx * k)) }
        }
        return sums
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
