/// The pre-norm MLP half of a transformer block, shared by the ViT block and HiFT's decoder block:
/// out = x + fc2(GELU(fc1(LayerNorm(x)))), erf GELU, hidden width = mlpRatio · D.
public enum MLPBranch {
    /// Pointers to the branch's parameters (or their gradients): norm [D] + [D]; fc1 [4D, D] + [4D]; fc2 [D, 4D] + [D].
    public struct Weights {
        public var normWeight, normBias, fc1Weight, fc1Bias, fc2Weight, fc2Bias: UnsafeMutablePointer<Float>
        public init(normWeight: UnsafeMutablePointer<Float>, normBias: UnsafeMutablePointer<Float>,
                    fc1Weight: UnsafeMutablePointer<Float>, fc1Bias: UnsafeMutablePointer<Float>,
                    fc2Weight: UnsafeMutablePointer<Float>, fc2Bias: UnsafeMutablePointer<Float>) {
            self.normWeight = normWeight; self.normBias = normBias; self.fc1Weight = fc1Weight; self.fc1Bias = fc1Bias
            self.fc2Weight = fc2Weight; self.fc2Bias = fc2Bias
        }
    }

    /// What forward keeps: norm [M, D], mean/rstd [M], fc1 (GELU' of fc1's output after forward), gelu [M, H].
    public struct Cache {
        public var norm, mean, rstd, fc1, gelu: UnsafeMutablePointer<Float>
        public init(norm: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>,
                    fc1: UnsafeMutablePointer<Float>, gelu: UnsafeMutablePointer<Float>) {
            self.norm = norm; self.mean = mean; self.rstd = rstd; self.fc1 = fc1; self.gelu = gelu
        }
    }

    /// Backward scratch: dHidden, dFc1 [M, H]; dNorm [M, D].
    public struct Scratch {
        public var dHidden, dFc1, dNorm: UnsafeMutablePointer<Float>
        public init(dHidden: UnsafeMutablePointer<Float>, dFc1: UnsafeMutablePointer<Float>, dNorm: UnsafeMutablePointer<Float>) {
            self.dHidden = dHidden; self.dFc1 = dFc1; self.dNorm = dNorm
        }
    }

    /// out: [M, D] = x + MLP(LN(x)) for x: [M, D]; fills `cache`.
    public static func forward(out: UnsafeMutablePointer<Float>, input x: UnsafePointer<Float>, weights w: Weights,
                               cache c: Cache, rows M: Int, width D: Int, hidden H: Int, eps: Float) {
        LayerNorm.forward(out: c.norm, mean: c.mean, rstd: c.rstd, input: x, weight: w.normWeight, bias: w.normBias,
                          rows: M, channels: D, eps: eps)
        Linear.forward(out: c.fc1, input: c.norm, weight: w.fc1Weight, bias: w.fc1Bias, rows: M, inFeatures: D, outFeatures: H)
        // fc1 is overwritten by GELU'(fc1): backward needs only the derivative.
        GELU.forward(out: c.gelu, derivative: c.fc1, input: c.fc1, count: M * H)
        Linear.forward(out: out, input: c.gelu, weight: w.fc2Weight, bias: w.fc2Bias, rows: M, inFeatures: H, outFeatures: D)
        Elementwise.add(into: out, x, count: M * D)
    }

    /// In place on the residual stream's gradient dStream [M, D] (dOut on entry, dx on return),
    /// adding into `grads`; x is the branch's forward input.
    public static func backward(dStream: UnsafeMutablePointer<Float>, grads: Weights, input x: UnsafePointer<Float>,
                                weights w: Weights, cache c: Cache, scratch s: Scratch, rows M: Int, width D: Int, hidden H: Int) {
        Linear.backward(dInput: s.dHidden, dWeight: grads.fc2Weight, dBias: grads.fc2Bias, dOut: dStream,
                        input: c.gelu, weight: w.fc2Weight, rows: M, inFeatures: H, outFeatures: D, overwriteInput: true)
        GELU.backward(dInput: s.dFc1, dOut: s.dHidden, derivative: c.fc1, count: M * H)
        Linear.backward(dInput: s.dNorm, dWeight: grads.fc1Weight, dBias: grads.fc1Bias, dOut: s.dFc1,
                        input: c.norm, weight: w.fc1Weight, rows: M, inFeatures: D, outFeatures: H, overwriteInput: true)
        LayerNorm.backward(dInput: dStream, dWeight: grads.normWeight, dBias: grads.normBias, dOut: s.dNorm,
                           input: x, weight: w.normWeight, mean: c.mean, rstd: c.rstd, rows: M, channels: D)
    }
}
