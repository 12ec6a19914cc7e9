import FluoroSupport
import FluoroTensor

/// The vesselness U-Net (METHOD §9) for a fixed batch and frame size, on `FluoroTensor`'s
/// Conv2D / ReLU / MaxPool2D / Upsample / ChannelConcat function pairs. Parameters live in a
/// `ParameterArena` that several instances (e.g. one per frame size) may share; activations are
/// owned and reused by the next call. Shapes: images [B, 1, H, W] -> logits [B, 1, H, W].
public final class UNet {
    public let config: UNetConfig
    public let batch: Int, height: Int, width: Int
    public let parameters: ParameterArena
    public let training: Bool
    let downs: [ConvPair]               // level i at H/2^i: [B, Ci, H/2^i, W/2^i]
    let pools: [MaxPool2D.Shape]        // level i's out -> [B, Ci, H/2^(i+1), W/2^(i+1)]
    let pooled: [FloatBuffer], poolIndices: [UnsafeMutablePointer<Int32>]
    let bottleneck: ConvPair            // [B, Cb, H/2^L, W/2^L]
    let ups: [ConvPair]                 // level i: [B, Ci, H/2^i, W/2^i]
    let upsamples: [Upsample.Shape]     // level i: the deeper map [B, Cdeep, ·] -> level i's size
    let concats: [ChannelConcat.Shape]
    let concatenated: [FloatBuffer]     // [B, Cdeep + Ci, H/2^i, W/2^i]
    let head: Conv2D.Shape              // 1x1: C0 -> 1
    let headWeight, headBias, dHeadWeight, dHeadBias: UnsafeMutablePointer<Float>
    public let logits: FloatBuffer      // [B, 1, H, W]
    let dPooled: [FloatBuffer], dUpsampled: [FloatBuffer], dConcatenated: [FloatBuffer]
    let workspace: FloatBuffer          // im2col columns, one slot per parallel part
    let parts: Int

    /// A network for `batch` images of `height` x `width` (multiples of `config.divisor`) over
    /// `parameters` (made from `UNetParameters.specs(for: config)`). `training` allocates gradients.
    public init(config c: UNetConfig, batch B: Int, height H: Int, width W: Int, parameters: ParameterArena, training: Bool) throws {
        try c.validate()
        try c.checkInput(width: W, height: H)
        config = c; batch = B; height = H; width = W; self.parameters = parameters; self.training = training
        let L = c.levels
        func side(_ i: Int) -> (Int, Int) { (H >> i, W >> i) }
        var downs: [ConvPair] = [], pools: [MaxPool2D.Shape] = []
        var inChannels = 1
        for (i, ch) in c.channels.enumerated() {
            let (h, w) = side(i)
            downs.append(ConvPair(prefix: "down.\(i)", batch: B, inChannels: inChannels, outChannels: ch, height: h, width: w,
                                  arena: parameters, training: training))
            pools.append(MaxPool2D.Shape(batch: B, channels: ch, height: h, width: w))
            inChannels = ch
        }
        self.downs = downs; self.pools = pools
        pooled = pools.map { FloatBuffer(count: $0.outputCount) }
        poolIndices = pools.map { UnsafeMutablePointer<Int32>.allocate(capacity: $0.outputCount) }
        let (hb, wb) = side(L)
        bottleneck = ConvPair(prefix: "bottleneck", batch: B, inChannels: inChannels, outChannels: c.bottleneck,
                              height: hb, width: wb, arena: parameters, training: training)
        var ups: [ConvPair] = [], upsamples: [Upsample.Shape] = [], concats: [ChannelConcat.Shape] = []
        for i in 0..<L {
            let (h, w) = side(i), deep = i == L - 1 ? c.bottleneck : c.channels[i + 1]
            upsamples.append(Upsample.Shape(batch: B, channels: deep, height: h / 2, width: w / 2))
            concats.append(ChannelConcat.Shape(batch: B, firstChannels: deep, secondChannels: c.channels[i], height: h, width: w))
            ups.append(ConvPair(prefix: "up.\(i)", batch: B, inChannels: deep + c.channels[i], outChannels: c.channels[i],
                                height: h, width: w, arena: parameters, training: training))
        }
        self.ups = ups; self.upsamples = upsamples; self.concats = concats
        concatenated = concats.map { FloatBuffer(count: $0.outputCount) }
        head = Conv2D.Shape(batch: B, inChannels: c.channels[0], outChannels: 1, height: H, width: W, kernel: 1)
        headWeight = parameters.value("out.weight"); headBias = parameters.value("out.bias")
        dHeadWeight = parameters.gradient("out.weight"); dHeadBias = parameters.gradient("out.bias")
        logits = FloatBuffer(count: head.outputCount)
        dPooled = training ? pooled.map { FloatBuffer(count: $0.count) } : []
        dUpsampled = training ? upsamples.map { FloatBuffer(count: $0.outputCount) } : []
        dConcatenated = training ? concatenated.map { FloatBuffer(count: $0.count) } : []
        parts = max(1, min(Parallel.threads, B))
        let largest = (downs + ups + [bottleneck]).map(\.workspaceCount).max() ?? 0
        workspace = FloatBuffer(count: largest * parts)
    }

    deinit { poolIndices.forEach { $0.deallocate() } }

    /// A fresh arena for `config`, initialised from `seed` (xavier kernels, zero biases).
    public static func makeParameters(_ config: UNetConfig, seed: UInt64) -> ParameterArena {
        let arena = ParameterArena(specs: UNetParameters.specs(for: config))
        arena.initialize(seed: seed)
        return arena
    }

    /// Logits [B, 1, H, W] of images [B, 1, H, W]; `images` must stay valid until `backward`.
    @discardableResult
    public func forward(_ images: UnsafePointer<Float>) -> UnsafePointer<Float> {
        var x = images
        for i in downs.indices {
            downs[i].forward(x, workspace: workspace.pointer, parts: parts)
            pool(level: i)
            x = UnsafePointer(pooled[i].pointer)
        }
        bottleneck.forward(x, workspace: workspace.pointer, parts: parts)
        var deep = bottleneck.out
        for i in stride(from: ups.count - 1, through: 0, by: -1) {
            upsampleAndConcatenate(deep.pointer, level: i)
            ups[i].forward(concatenated[i].pointer, workspace: workspace.pointer, parts: parts)
            deep = ups[i].out
        }
        Conv2D.forward(output: logits.pointer, input: ups[0].out.pointer, weight: headWeight, bias: headBias, shape: head, workspace: nil)
        return UnsafePointer(logits.pointer)
    }

    /// Level i's 2x2 max-pool, one image per thread: downs[i].out -> pooled[i] (and the indices).
    func pool(level i: Int) {
        let s = pools[i], planes = s.planes / batch
        let one = MaxPool2D.Shape(batch: 1, channels: planes, height: s.height, width: s.width)
        Parallel.forEach(batch) { n in
            MaxPool2D.forward(output: pooled[i].pointer + n * one.outputCount, indices: poolIndices[i] + n * one.outputCount,
                              input: downs[i].out.pointer + n * one.inputCount, shape: one)
        }
    }

    /// concatenated[i] = [upsample(deep); downs[i].out] along channels, one image per thread: the
    /// bilinear x2 writes straight into the first channels (ChannelConcat's layout), the skip is
    /// copied beside it.
    /// - Parameters: deep: [B, Cdeep, h/2, w/2] with h x w level i's size
    func upsampleAndConcatenate(_ deep: UnsafePointer<Float>, level i: Int) {
        let u = upsamples[i], c = concats[i]
        let one = Upsample.Shape(batch: 1, channels: u.planes / batch, height: u.height, width: u.width, factor: u.factor)
        let image = (c.firstChannels + c.secondChannels) * c.plane, skip = c.secondChannels * c.plane
        Parallel.forEach(batch) { n in
            let out = concatenated[i].pointer + n * image
            Parallel.serially { Upsample.bilinearForward(output: out, input: deep + n * one.inputCount, shape: one) }  // one image per thread already
            (out + one.outputCount).update(from: downs[i].out.pointer + n * skip, count: skip)
        }
    }
}
