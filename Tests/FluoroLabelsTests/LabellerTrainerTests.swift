import FluoroDistributed
import FluoroShards
import FluoroSim
import FluoroSupport
import FluoroTensor
import FluoroTraining
import Foundation
import Testing
@testable import FluoroLabels

/// The labeller's training loop on a tiny simulated dataset: exact resume, bad data, the model
/// file, the labeller's padding and the metrics.
@Suite(.serialized) struct LabellerTrainerTests {
    /// A fresh directory with `sequences` simulated 32-px angiography runs of 3 frames.
    static func dataset(sequences: Int = 4, layers: Bool = true) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("unet-\(UUID().uuidString)")
        let writer = try ShardDatasetWriter(directory: dir)
        let sim = XRaySimulator(config: SimulatorConfig(frames: 3, size: 32, kind: .angio, seed: 3))
        for i in 0..<sequences {
            var s = sim.sequence(index: i)
            if !layers { s.layers = [:] }
            try writer.append(s)
        }
        try writer.finish()
        return dir
    }

    static func settings(steps: Int) -> LabellerSettings {
        var s = LabellerSettings(config: .tiny, steps: steps, batchPerRank: 2, ranks: 1, seed: 7)
        s.crop = 16
        s.validateEvery = 2
        s.validationCrops = 2
        return s
    }

    static func train(_ shards: URL, _ run: URL, steps: Int, stopAt: Int? = nil, resume: Bool = false) throws -> LabellerTrainer.Summary {
        var options = LabellerTrainer.Options(shards: shards, run: run, settings: settings(steps: steps))
        options.stopAt = stopAt
        options.resume = resume
        options.logEvery = 1000
        return try LabellerTrainer(options: options, communicator: LocalCommunicator()).run()
    }

    @Test func resumeContinuesBitForBit() throws {
        Parallel.configure(threads: 1)
        let shards = try Self.dataset()
        let tmp = FileManager.default.temporaryDirectory
        let straight = tmp.appendingPathComponent("unet-run-\(UUID().uuidString)")
        let split = tmp.appendingPathComponent("unet-run-\(UUID().uuidString)")
        _ = try Self.train(shards, straight, steps: 4)
        let first = try Self.train(shards, split, steps: 4, stopAt: 2)
        #expect(first.lastStep == 2 && first.model == nil)
        let second = try Self.train(shards, split, steps: 4, resume: true)
        #expect(second.firstStep == 2 && second.lastStep == 4)
        let a = try LabellerModelFile.load(LabellerTrainer.modelURL(run: straight)).parameters
        let b = try LabellerModelFile.load(LabellerTrainer.modelURL(run: split)).parameters
        #expect(Array(a.values.buffer) == Array(b.values.buffer), "the resumed run differs from the straight one")
        #expect(second.validation != nil)
        #expect(try LabellerModelFile.load(LabellerTrainer.modelURL(run: straight)).trainingFrameSide == 32)
        #expect(throws: TrainingError.self) { try Self.train(shards, straight, steps: 4) }  // run directory in use
    }

    @Test func datasetWithoutVesselMasksIsAClearError() throws {
        let shards = try Self.dataset(layers: false)
        let run = FileManager.default.temporaryDirectory.appendingPathComponent("unet-run-\(UUID().uuidString)")
        #expect(throws: LabellerDataError.noVesselMasks(shards: shards.path)) { try Self.train(shards, run, steps: 1) }
        var big = Self.settings(steps: 1)
        big.crop = 64
        let masked = try Self.dataset()
        #expect(throws: LabellerDataError.self) {
            _ = try LabellerTrainer(options: .init(shards: masked, run: run, settings: big), communicator: LocalCommunicator()).run()
        }
    }

    @Test func modelFileRejectsOtherFiles() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("not-unet-\(UUID().uuidString).safetensors")
        var writer = SafetensorsWriter(metadata: ["kind": "fluoro-tracker"])
        writer.add("x", shape: [1], floats: [1])
        try writer.encoded().write(to: url)
        #expect(throws: UNetError.self) { try LabellerModelFile.load(url) }
        // Right kind, wrong shapes: a standard config over tiny tensors.
        let arena = UNet.makeParameters(.tiny, seed: 1)
        try LabellerModelFile.write(arena, config: .tiny, provenance: "test", trainingFrameSide: nil, to: url)
        #expect(try LabellerModelFile.load(url).config == .tiny)
        var bad = SafetensorsWriter(metadata: ["kind": LabellerModelFile.kind, "config": #"{"channels":[16,32,64,128],"bottleneck":256}"#])
        arena.write(into: &bad)
        try bad.encoded().write(to: url)
        #expect(throws: UNetError.self) { try LabellerModelFile.load(url) }
    }

    @Test func labellerPadsOddFramesAndMatchesAnUnpaddedPass() throws {
        Parallel.configure(threads: 1)
        let arena = UNet.makeParameters(.tiny, seed: 2)
        let labeller = UNetLabeller(config: .tiny, parameters: arena, batch: 2)
        var rng = SplitMix64(seed: 1)
        // 3 frames of 13 x 10: padded to 16 x 12 (tiny's divisor is 4).
        let info = SequenceInfo(id: "odd", frameCount: 3, width: 10, height: 13, pixelFormat: .uint8, bitsStored: 8, modality: "SYN", source: "test")
        let pixels = Data((0..<(3 * 130)).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
        let layer = try labeller.label(pixels: pixels, info: info, frameCount: 3)
        #expect(layer.count == 3 * 130)
        // Frame by frame with batch 1 gives the same bytes.
        let single = UNetLabeller(config: .tiny, parameters: arena, batch: 1)
        #expect(try single.label(pixels: pixels, info: info, frameCount: 3) == layer)
        #expect(throws: LabelError.self) { try labeller.label(pixels: pixels.dropLast(), info: info, frameCount: 3) }
    }

    @Test func cropsArePureFunctionsOfSeedAndIndexAndStandardised() throws {
        let shards = try Self.dataset()
        let sampler = try VesselCropSampler(dataset: try ShardDataset(directory: shards), crop: 16, shards: shards.path)
        #expect(sampler.heldOut.count == 1 && sampler.training.count == 3)
        func draw(_ g: Int, seed: UInt64) throws -> ([Float], [Float]) {
            let image = FloatBuffer(count: 256), target = FloatBuffer(count: 256)
            try sampler.sample(g, seed: seed, image: image.pointer, target: target.pointer)
            return (image.array, target.array)
        }
        let a = try draw(5, seed: 1), b = try draw(5, seed: 1), c = try draw(6, seed: 1)
        #expect(a.0 == b.0 && a.1 == b.1)
        #expect(a.0 != c.0)
        #expect(abs(a.0.reduce(0, +) / 256) < 1e-4)
        #expect(a.1.allSatisfy { $0 == 0 || $0 == 1 })
    }

    @Test func shutterClearsTheTargetBeneathIt() {
        var augmentation = VesselAugmentation()
        augmentation.shutterProbability = 1
        augmentation.shutterDepth = 0.25
        var image = [Float](repeating: 0.6, count: 64), target = [Float](repeating: 1, count: 64)
        var rng = SplitMix64(seed: 3)
        augmentation.shutter(&image, &target, 8, &rng)
        #expect(target[0] == 0 && target[63] == 0)          // corners lie under two bands
        #expect(target.contains(1))                         // the middle survives (bands ≤ 25% deep)
        #expect(image[0] < 0.6)
    }

    /// docs/models/unet-labeller.safetensors is a standard-shape labeller that labels a frame.
    @Test func committedLabellerLoadsAndLabels() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let labeller = try UNetLabeller(model: root.appendingPathComponent("docs/models/unet-labeller.safetensors"))
        #expect(labeller.config == .standard)
        let info = SequenceInfo(id: "x", frameCount: 1, width: 20, height: 24, pixelFormat: .uint8, bitsStored: 8, modality: "SYN", source: "test")
        let layer = try labeller.label(pixels: Data((0..<480).map { UInt8($0 % 251) }), info: info, frameCount: 1)
        #expect(layer.count == 480)
    }

    @Test func metricsOfAPerfectAndAUselessScore() {
        var perfect = SegmentationMetrics(), useless = SegmentationMetrics()
        let truth: [Bool] = (0..<100).map { $0 < 20 }
        let good: [UInt8] = truth.map { $0 ? 250 : 3 }, flat = [UInt8](repeating: 100, count: 100)
        perfect.add(scores: good, truth: truth, count: 100)
        useless.add(scores: flat, truth: truth, count: 100)
        #expect(perfect.auc == 1 && perfect.diceAtHalf == 1 && perfect.precision() == 1)
        #expect(useless.auc == 0.5 && useless.diceAtHalf == 0)
        #expect(abs(useless.precision() - 0.2) < 1e-12)
    }
}
