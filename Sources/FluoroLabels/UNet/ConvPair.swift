import FluoroTensor

/// Two conv3x3 (padding 1) + ReLU at one resolution: x [B, Cin, H, W] -> mid [B, C, H, W] -> out
/// [B, C, H, W], the U-Net's unit (`<prefix>.conv1`, `<prefix>.conv2`). Owns its activations (and,
/// when training, their gradients); backward adds into the arena's gradients.
final class ConvPair {
    let first: Conv2D.Shape, second: Conv2D.Shape
    let w1, b1, w2, b2: UnsafeMutablePointer<Float>
    let dw1, db1, dw2, db2: UnsafeMutablePointer<Float>
    let mid: FloatBuffer                // [B, C, H, W] after ReLU
    let out: FloatBuffer                // [B, C, H, W] after ReLU
    let dOut: FloatBuffer?              // [B, C, H, W]: gradient of `out`, filled by the next layer
    let dPre: FloatBuffer?              // [B, C, H, W]: scratch, gradient before a ReLU
    let dMid: FloatBuffer?              // [B, C, H, W]
    private(set) var input: UnsafePointer<Float>?

    init(prefix: String, batch: Int, inChannels: Int, outChannels: Int, height: Int, width: Int,
         arena: ParameterArena, training: Bool) {
        first = Conv2D.Shape(batch: batch, inChannels: inChannels, outChannels: outChannels, height: height, width: width,
                             kernel: 3, padding: 1)
        second = Conv2D.Shape(batch: batch, inChannels: outChannels, outChannels: outChannels, height: height, width: width,
                              kernel: 3, padding: 1)
        w1 = arena.value(prefix + ".conv1.weight"); b1 = arena.value(prefix + ".conv1.bias")
        w2 = arena.value(prefix + ".conv2.weight"); b2 = arena.value(prefix + ".conv2.bias")
        dw1 = arena.gradient(prefix + ".conv1.weight"); db1 = arena.gradient(prefix + ".conv1.bias")
        dw2 = arena.gradient(prefix + ".conv2.weight"); db2 = arena.gradient(prefix + ".conv2.bias")
        mid = FloatBuffer(count: first.outputCount)
        out = FloatBuffer(count: second.outputCount)
        dOut = training ? FloatBuffer(count: out.count) : nil
        dPre = training ? FloatBuffer(count: out.count) : nil
        dMid = training ? FloatBuffer(count: mid.count) : nil
    }

    /// Floats of im2col scratch one parallel part needs (the larger of the two convolutions).
    var workspaceCount: Int { max(first.workspaceCount, second.workspaceCount) }

    /// out = relu(conv2(relu(conv1(x)))); `x` must stay valid until `backward`.
    /// - Parameters: x: [B, Cin, H, W]; workspace: `workspaceCount` floats per part.
    func forward(_ x: UnsafePointer<Float>, workspace: UnsafeMutablePointer<Float>, parts: Int) {
        input = x
        Conv2D.forward(output: mid.pointer, input: x, weight: w1, bias: b1, shape: first, workspace: workspace, workspaces: parts,
                       relu: true)
        Conv2D.forward(output: out.pointer, input: mid.pointer, weight: w2, bias: b2, shape: second, workspace: workspace, workspaces: parts,
                       relu: true)
    }

    /// Adds the parameter gradients and dx [B, Cin, H, W] (when given), from `dOut`.
    func backward(dInput: UnsafeMutablePointer<Float>?, workspace: UnsafeMutablePointer<Float>, parts: Int) {
        guard let dOut, let dPre, let dMid, let input else { preconditionFailure("ConvPair.backward needs a training forward first") }
        dPre.zero()
        ReLU.backward(inputGradient: dPre.pointer, outputGradient: dOut.pointer, output: out.pointer, count: out.count)
        dMid.zero()
        Conv2D.backward(inputGradient: dMid.pointer, weightGradient: dw2, biasGradient: db2, outputGradient: dPre.pointer,
                        input: mid.pointer, weight: w2, shape: second, workspace: workspace, workspaces: parts)
        dPre.zero()  // reused as [B, C, H, W] for the first ReLU (same size)
        ReLU.backward(inputGradient: dPre.pointer, outputGradient: dMid.pointer, output: mid.pointer, count: mid.count)
        Conv2D.backward(inputGradient: dInput, weightGradient: dw1, biasGradient: db1, outputGradient: dPre.pointer,
                        input: input, weight: w1, shape: first, workspace: workspace, workspaces: parts)
    }
}
