import FluoroTensor

/// The U-Net's parameter list, PyTorch-style names: `down.{i}.conv{1,2}.{weight,bias}` (level i,
/// finest first), `bottleneck.conv{1,2}.*`, `up.{i}.conv{1,2}.*` and `out.{weight,bias}`.
/// Conv kernels [Cout, Cin, k, k] xavier-uniform with weight decay; biases zero, no decay.
public enum UNetParameters {
    public static func specs(for c: UNetConfig) -> [ParameterArena.Spec] {
        var specs: [ParameterArena.Spec] = []
        var inChannels = 1
        for (i, ch) in c.channels.enumerated() {
            specs += pair("down.\(i)", inChannels, ch)
            inChannels = ch
        }
        specs += pair("bottleneck", inChannels, c.bottleneck)
        for i in stride(from: c.levels - 1, through: 0, by: -1) {
            specs += pair("up.\(i)", upInput(c, level: i), c.channels[i])
        }
        specs += conv("out", c.channels[0], 1, kernel: 1)
        return specs
    }

    /// Channels entering level i's up pair: the upsampled deeper map plus the skip.
    static func upInput(_ c: UNetConfig, level i: Int) -> Int {
        (i == c.levels - 1 ? c.bottleneck : c.channels[i + 1]) + c.channels[i]
    }

    static func pair(_ prefix: String, _ inChannels: Int, _ outChannels: Int) -> [ParameterArena.Spec] {
        conv(prefix + ".conv1", inChannels, outChannels, kernel: 3) + conv(prefix + ".conv2", outChannels, outChannels, kernel: 3)
    }

    static func conv(_ prefix: String, _ inChannels: Int, _ outChannels: Int, kernel k: Int) -> [ParameterArena.Spec] {
        [.init(name: prefix + ".weight", shape: [outChannels, inChannels, k, k], decays: true, initialization: .xavierUniform),
         .init(name: prefix + ".bias", shape: [outChannels], decays: false, initialization: .zeros)]
    }
}
