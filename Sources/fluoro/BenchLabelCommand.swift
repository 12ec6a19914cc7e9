import ArgumentParser
import FluoroLabels
import FluoroShards
import FluoroSupport
import FluoroTensor
import Foundation

/// `fluoro bench label`: frames per second of both vesselness labellers on synthetic frames.
struct BenchLabelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "label",
        abstract: "Frames per second of the Frangi and U-Net labellers (METHOD §9) at a frame size.",
        discussion: """
            Labels --frames random-textured UInt8 frames of --size x --size with each method, after one warm-up \
            pass, on --threads threads. The U-Net uses --model when given, else randomly initialised weights \
            of the standard shape (the speed does not depend on the weights) with the committed labeller's \
            training frame side, 256, as working side (--working-side: 0 labels frames as stored).
            """)

    @Option(help: "Frame side in pixels.")
    var size = 512

    @Option(help: "Frames per method.")
    var frames = 8

    @Option(help: "Methods: frangi, unet or both.")
    var method = "both"

    @Option(help: "A U-Net labeller file (default: random weights of the standard shape).")
    var model: String?

    @OptionGroup var scale: WorkingSideOption

    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        if size < 16 || size > 4096 { throw ValidationError("--size must be in 16...4096, got \(size)") }
        if frames < 1 { throw ValidationError("--frames must be at least 1") }
        if !["frangi", "unet", "both"].contains(method) { throw ValidationError("--method is frangi, unet or both") }
    }

    func run() throws {
        let threads = runtime.resolvedThreads
        Parallel.configure(threads: threads)
        let info = SequenceInfo(id: "bench", frameCount: frames, width: size, height: size, pixelFormat: .uint8, bitsStored: 8,
                                modality: "SYN", source: "bench")
        var rng = SplitMix64(seed: 1)
        let pixels = Data((0..<(frames * size * size)).map { _ in UInt8(truncatingIfNeeded: rng.next() >> 56) })
        var results: [(String, Double)] = []
        if method != "unet" {
            let frangi = VesselnessLabeller(filter: FrangiFilter(), threads: threads)
            results.append(("frangi", try measure { try frangi.label(pixels: pixels, info: info, frameCount: frames) }))
        }
        if method != "frangi" {
            let unet = try model.map { try UNetLabeller(model: URL(fileURLWithPath: $0), batch: threads, workingSide: scale.workingSide) }
                ?? UNetLabeller(config: .standard, parameters: UNet.makeParameters(.standard, seed: 0), batch: threads,
                                workingSide: scale.workingSide == 0 ? nil : scale.workingSide ?? 256)
            let k = unet.reduction(for: info)
            results.append((k > 1 ? "unet (at \(size / k) px)" : "unet", try measure { try unet.label(pixels: pixels, info: info, frameCount: frames) }))
        }
        for (name, seconds) in results {
            print(String(format: "bench label %@: %d frames of %dx%d in %.2f s = %.2f frames/s (%d thread(s))",
                         name, frames, size, size, seconds, Double(frames) / seconds, threads))
        }
    }

    /// Seconds of one labelling pass after a warm-up pass.
    func measure(_ body: () throws -> Data) throws -> Double {
        _ = try body()
        let start = Date()
        _ = try body()
        return Date().timeIntervalSince(start)
    }
}
