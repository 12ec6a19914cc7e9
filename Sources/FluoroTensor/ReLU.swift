/// The rectifier max(0, x), element-wise (llm.c style; backward adds into dx).
public enum ReLU {
    /// out = max(0, x); `output` may be `input` (in place).
    /// - Parameters: output: out: [n]; input: x: [n]
    public static func forward(output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, count n: Int) {
        for i in 0..<n { output[i] = max(0, input[i]) }
    }

    /// dx += dout where out > 0 (the forward's output or input both work: they are positive together).
    /// - Parameters: inputGradient: dx: [n]; outputGradient: dout: [n]; output: out (or x): [n]
    public static func backward(inputGradient: UnsafeMutablePointer<Float>, outputGradient: UnsafePointer<Float>,
                                output: UnsafePointer<Float>, count n: Int) {
        for i in 0..<n where output[i] > 0 { inputGradient[i] += outputGradient[i] }
    }
}
