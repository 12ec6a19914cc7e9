import ArgumentParser
import FluoroSupport
import FluoroTensor
import Foundation

/// `fluoro bench conv`: Conv2D's direct 3x3 kernels against im2col + sgemm, shape by shape — the
/// measurement behind `Conv2D.usesDirect`.
struct BenchConvCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conv",
        abstract: "Time Conv2D's direct 3x3 kernels against im2col + sgemm (forward; backward = dx + dw + db) on one image.",
        discussion: """
            For each --channels pair Cin:Cout and each --sizes side S, a 3x3, stride 1, padding 1 convolution of one \
            S x S image (batch 1: as each thread of the U-Net labeller and of HiFT's heads runs it), both paths \
            alternating in the same minute, best of --repeats. The last column is the path Conv2D chooses. Use a \
            release build; both paths run the image on the calling thread (only OpenBLAS, with FLUORO_SGEMM=openblas, \
            would spread im2col's product over --threads).
            """)

    @Option(help: "Channel pairs Cin:Cout, comma-separated.")
    var channels = "8:8,16:16,16:32,32:16,32:32,48:16,32:64,64:32,64:64,96:32,128:64,128:128"

    @Option(help: "Image sides in pixels, comma-separated.")
    var sizes = "64,128,256,512"

    @Option(help: "Timed calls per path and shape (the best is kept).")
    var repeats = 3

    @OptionGroup var runtime: RuntimeOptions

    /// The channel pairs, or a message naming the first bad one.
    func pairs() throws -> [(Int, Int)] {
        try channels.split(separator: ",").map { item in
            let parts = item.split(separator: ":").compactMap { Int($0) }
            guard parts.count == 2, parts.allSatisfy({ $0 >= 1 && $0 <= 4096 }) else {
                throw ValidationError("'\(item)' is not a channel pair Cin:Cout such as 16:32")
            }
            return (parts[0], parts[1])
        }
    }

    func sides() throws -> [Int] {
        try sizes.split(separator: ",").map { item in
            guard let side = Int(item), side >= 1, side <= 4096 else { throw ValidationError("'\(item)' is not a side in 1...4096") }
            return side
        }
    }

    func validate() throws {
        _ = try pairs(); _ = try sides()
        if repeats < 1 { throw ValidationError("--repeats must be at least 1") }
    }

    func run() throws {
        runtime.apply()
        print("bench conv: direct 3x3 (\(Conv2D.DirectISA.best)) against im2col + sgemm, 1 image, \(runtime.resolvedThreads) thread(s), best of \(repeats), ms")
        for (cin, cout) in try pairs() {
            for side in try sides() {
                let s = Conv2D.Shape(batch: 1, inChannels: cin, outChannels: cout, height: side, width: side, kernel: 3, padding: 1)
                let (direct, im2col) = time(s)
                print(String(format: "conv %3d->%-3d %4dx%-4d forward: direct %8.2f im2col %8.2f = %5.2fx   backward: direct %8.2f im2col %8.2f = %5.2fx   chosen: %@",
                             cin, cout, side, side, direct.forward * 1e3, im2col.forward * 1e3, im2col.forward / direct.forward,
                             direct.backward * 1e3, im2col.backward * 1e3, im2col.backward / direct.backward,
                             Conv2D.usesDirect(s) ? "direct" : "im2col"))
            }
        }
    }

    /// Best seconds of `repeats` forward and backward calls on each path (alternating), after a warm-up round.
    func time(_ s: Conv2D.Shape) -> (direct: (forward: Double, backward: Double), im2col: (forward: Double, backward: Double)) {
        var rng = SplitMix64(seed: 7)
        func random(_ count: Int) -> FloatBuffer {
            let buffer = FloatBuffer(count: count)
            for i in 0..<count { buffer.pointer[i] = Float(rng.nextUnit()) - 0.5 }
            return buffer
        }
        let x = random(s.inputCount), w = random(s.weightCount), b = random(s.outChannels), dout = random(s.outputCount)
        let out = FloatBuffer(count: s.outputCount), work = FloatBuffer(count: max(s.paddedCount, s.columnCount))
        let dx = FloatBuffer(count: s.inputCount), dw = FloatBuffer(count: s.weightCount), db = FloatBuffer(count: s.outChannels)
        var best: [Conv2D.Path: (forward: Double, backward: Double)] = [.direct: (.infinity, .infinity), .im2col: (.infinity, .infinity)]
        for round in 0...repeats {
            for path in [Conv2D.Path.direct, .im2col] {
                var start = Date()
                Conv2D.forward(output: out.pointer, input: x.pointer, weight: w.pointer, bias: b.pointer, shape: s,
                               workspace: work.pointer, path: path)
                let forward = Date().timeIntervalSince(start)
                start = Date()
                Conv2D.backward(inputGradient: dx.pointer, weightGradient: dw.pointer, biasGradient: db.pointer,
                                outputGradient: dout.pointer, input: x.pointer, weight: w.pointer, shape: s,
                                workspace: work.pointer, path: path)
                let backward = Date().timeIntervalSince(start)
                if round > 0, let old = best[path] { best[path] = (min(old.forward, forward), min(old.backward, backward)) }
            }
        }
        return (best[.direct]!, best[.im2col]!)
    }
}
