import Foundation
import Testing
@testable import FluoroShards

/// What a clip is: epochs, frames, crops, normalisation, vesselness and errors.
@Suite struct ClipSamplingTests {
    let spec = LoaderFixtures.spec

    /// Each epoch visits every eligible sequence exactly once; short ones never appear.
    @Test func epochsCoverEligibleSequencesOnce() throws {
        let sequences = (0..<9).map { LoaderFixtures.sequence($0, frames: $0 % 3 == 0 ? 3 : 6) }
        let sampler = try ClipSampler(source: InMemoryClipSource(sequences), spec: spec, seed: 5)
        #expect(sampler.skipped.map(\.id) == ["seq-0", "seq-3", "seq-6"])
        #expect(sampler.epochLength == 6)
        var orders: [[Int]] = []
        for epoch in 0..<4 {
            let plans = (0..<6).map { sampler.plan(sample: epoch * 6 + $0).plan }
            #expect(plans.allSatisfy { $0.epoch == epoch })
            #expect(plans.map(\.sequence).sorted() == [1, 2, 4, 5, 7, 8])
            orders.append(plans.map(\.sequence))
        }
        #expect(Set(orders).count > 1)  // the order is reshuffled between epochs
    }

    /// Sequences shorter than T are skipped and counted by the loader, and never sampled.
    @Test func shortSequencesAreSkippedAndCounted() throws {
        let sequences = [LoaderFixtures.sequence(0, frames: 2), LoaderFixtures.sequence(1, frames: 4),
                         LoaderFixtures.sequence(2, frames: 3), LoaderFixtures.sequence(3, frames: 9)]
        let loader = try ClipLoader(source: InMemoryClipSource(sequences), spec: spec, seed: 1, batchPerRank: 6,
                                    options: LoaderOptions(workers: 1))
        #expect(loader.skipped == [SkippedSequence(sequence: 0, id: "seq-0", frameCount: 2),
                                   SkippedSequence(sequence: 2, id: "seq-2", frameCount: 3)])
        let plans = try loader.next().plans
        #expect(Set(plans.map(\.sequenceID)) == ["seq-1", "seq-3"])
        #expect(plans.allSatisfy { $0.sequenceID != "seq-1" || $0.start == 0 })

        let allShort = InMemoryClipSource([LoaderFixtures.sequence(0, frames: 3)])
        #expect(throws: ClipLoaderError.noEligibleSequences(frames: 4, sequences: 1, skipped: 1)) {
            try ClipLoader(source: allShort, spec: spec, seed: 1, batchPerRank: 1)
        }
    }

    /// The vesselness of each output frame names the source frame: T consecutive frames from
    /// `start` of the planned sequence, and crops lie inside the frame at scale [0.66, 1].
    @Test func clipsTakeConsecutiveFramesAndValidCrops() throws {
        let source = LoaderFixtures.source()
        let loader = try ClipLoader(source: source, spec: spec, seed: 3, batchPerRank: 10, options: LoaderOptions(workers: 1))
        let batch = try loader.next()
        let s = spec.size, plane = s * s
        for (b, plan) in batch.plans.enumerated() {
            let info = source.info(sequence: plan.sequence)
            #expect(plan.start >= 0 && plan.start + spec.frames <= info.frameCount)
            #expect(plan.cropSide >= Int((0.66 * 20).rounded(.down)) && plan.cropSide <= 20)
            #expect(plan.cropX >= 0 && plan.cropX + plan.cropSide <= info.width)
            #expect(plan.cropY >= 0 && plan.cropY + plan.cropSide <= info.height)
            for t in 0..<spec.frames {
                let expected = Float(LoaderFixtures.frameCode(sequence: plan.sequence, frame: plan.start + t)) / 255
                let frame = batch.vesselness[((b * spec.frames + t) * plane)..<((b * spec.frames + t + 1) * plane)]
                #expect(frame.allSatisfy { abs($0 - expected) < 1e-6 })
            }
        }
    }

    /// Starts, scales and crop positions spread over their whole ranges.
    @Test func startsScalesAndPositionsCoverTheirRanges() throws {
        let source = InMemoryClipSource([LoaderFixtures.sequence(0, frames: 9, width: 40, height: 30)])
        let sampler = try ClipSampler(source: source, spec: spec, seed: 21)
        let plans = (0..<2000).map { sampler.plan(sample: $0).plan }
        #expect(Set(plans.map(\.start)) == Set(0...5))
        let sides = plans.map(\.cropSide)
        #expect(sides.min() == 20 && sides.max() == 30)  // round(0.66 * 30) ... 30
        #expect(plans.contains { $0.cropX == 0 } && plans.contains { $0.cropX + $0.cropSide == 40 })
        #expect(plans.contains { $0.cropY == 0 && $0.cropSide < 30 } && plans.contains { $0.cropY + $0.cropSide == 30 && $0.cropY > 0 })
        let meanSide = Double(sides.reduce(0, +)) / Double(sides.count)
        #expect(abs(meanSide - 0.83 * 30) < 0.5)  // uniform scale in [0.66, 1)
    }

    /// A maximum scale bounds the crops from above; equal bounds give one side (the tracker's scale).
    @Test func scaleBoundsSetTheCropSides() throws {
        let source = InMemoryClipSource([LoaderFixtures.sequence(0, frames: 9, width: 40, height: 30)])
        var ranged = spec
        ranged.minimumScale = 0.4; ranged.maximumScale = 0.6
        let sides = try (0..<2000).map { try ClipSampler(source: source, spec: ranged, seed: 3).plan(sample: $0).plan.cropSide }
        #expect(sides.min() == 12 && sides.max() == 18)  // round(0.4 * 30) ... round(0.6 * 30)
        var fixed = spec
        fixed.minimumScale = 0.5; fixed.maximumScale = 0.5
        let sampler = try ClipSampler(source: source, spec: fixed, seed: 3)
        #expect(Set((0..<500).map { sampler.plan(sample: $0).plan.cropSide }) == [15])
        var inverted = spec
        inverted.minimumScale = 0.7; inverted.maximumScale = 0.6
        #expect(inverted.validationProblem()?.contains("maximumScale 0.6") == true)
    }

    /// Pixels equal an independent bilinear (half-pixel) resize of the planned crop, standardised.
    @Test func pixelsMatchNaiveCropResizeAndStandardisation() throws {
        let source = LoaderFixtures.source()
        let loader = try ClipLoader(source: source, spec: spec, seed: 11, batchPerRank: 6, options: LoaderOptions(workers: 2))
        let batch = try loader.next()
        let s = spec.size
        for (b, plan) in batch.plans.enumerated() {
            var expected: [Double] = []
            for t in 0..<spec.frames {
                for oy in 0..<s {
                    for ox in 0..<s {
                        expected.append(naiveBilinear(plan: plan, frame: plan.start + t, oy: oy, ox: ox) / 255)
                    }
                }
            }
            let mean = expected.reduce(0, +) / Double(expected.count)
            let std = (expected.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(expected.count)).squareRoot()
            let got = batch.clips[(b * spec.pixelsPerClip)..<((b + 1) * spec.pixelsPerClip)]
            let worst = zip(got, expected).map { abs(Double($0) - ($1 - mean) / (std + 1e-6)) }.max() ?? 1
            #expect(worst < 1e-4, "clip \(b) \(plan)")
        }
    }

    /// A crop of side S is copied unresized: output (t, y, x) is source (start+t, cropY+y, cropX+x).
    @Test func cropOfSideSIsCopiedFromItsPosition() throws {
        let source = LoaderFixtures.source()
        let plan = ClipPlan(sample: 0, epoch: 0, sequence: 4, sequenceID: "seq-4", start: 3, cropX: 5, cropY: 2, cropSide: 16)
        var pixels = [Float](repeating: 0, count: spec.pixelsPerClip), ves = pixels
        let present = try pixels.withUnsafeMutableBufferPointer { p in
            try ves.withUnsafeMutableBufferPointer { v in
                try ClipTransform.fill(plan: plan, info: source.info(sequence: 4), source: source, spec: spec,
                                       requireVesselness: true, pixels: p, vesselness: v)
            }
        }
        #expect(present)
        var raw: [Float] = []
        for t in 0..<4 { for y in 0..<16 { for x in 0..<16 {
            raw.append(Float(LoaderFixtures.pixel(sequence: 4, frame: 3 + t, y: 2 + y, x: 5 + x)))
        } } }
        let rawStandardised = standardised(raw)
        #expect(zip(pixels, rawStandardised).allSatisfy { abs($0 - $1) < 1e-4 })
    }

    /// 12-bit little-endian UInt16 runs give the same clips as the same picture stored in 8 bits
    /// (standardisation removes the scale), and a bit depth that cannot fit is refused.
    @Test func sixteenBitPixelsAreReadLittleEndian() throws {
        let narrow = (0..<3).map { LoaderFixtures.sequence($0, frames: 6) }
        let wide = narrow.map { sequence -> FrameSequence in
            var bytes = [UInt8]()
            for value in sequence.pixels {
                let v = UInt16(value) * 16 + 5  // 12-bit values, the high byte is used
                bytes += [UInt8(v & 0xFF), UInt8(v >> 8)]
            }
            var info = sequence.info
            info.pixelFormat = .uint16
            info.bitsStored = 12
            return FrameSequence(info: info, pixels: Data(bytes), layers: sequence.layers)
        }
        let a = try ClipLoader(source: InMemoryClipSource(narrow), spec: spec, seed: 8, batchPerRank: 4).next()
        let b = try ClipLoader(source: InMemoryClipSource(wide), spec: spec, seed: 8, batchPerRank: 4).next()
        #expect(a.plans == b.plans)
        #expect(a.vesselness == b.vesselness)
        #expect(zip(a.clips, b.clips).allSatisfy { abs($0 - $1) < 1e-4 })

        var bad = narrow[0]
        bad.info.bitsStored = 9
        let error = #expect(throws: ClipLoaderError.self) {
            try ClipLoader(source: InMemoryClipSource([bad]), spec: spec, seed: 8, batchPerRank: 1).next()
        }
        #expect(error.map { "\($0)".contains("seq-0") && "\($0)".contains("bitsStored 9") } == true)
    }

    /// Every clip has mean ≈ 0 and std ≈ 1.
    @Test func clipsAreStandardised() throws {
        let loader = try ClipLoader(source: LoaderFixtures.source(), spec: spec, seed: 9, batchPerRank: 8)
        let batch = try loader.next()
        for b in 0..<batch.count {
            let clip = batch.clips[(b * spec.pixelsPerClip)..<((b + 1) * spec.pixelsPerClip)].map(Double.init)
            let mean = clip.reduce(0, +) / Double(clip.count)
            let variance = clip.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(clip.count)
            #expect(abs(mean) < 1e-5)
            #expect(abs(variance.squareRoot() - 1) < 1e-4)
        }
    }

    /// With vesselness = pixels, the standardised vesselness equals the clip: same crop and resize.
    @Test func vesselnessIsAlignedWithPixels() throws {
        let sequences = (0..<3).map { LoaderFixtures.sequence($0, frames: 6, width: 30, height: 22, vesselnessEqualsPixels: true) }
        let loader = try ClipLoader(source: InMemoryClipSource(sequences), spec: spec, seed: 4, batchPerRank: 5)
        let batch = try loader.next()
        #expect(batch.vesselnessMissing == [Bool](repeating: false, count: 5))
        for b in 0..<batch.count {
            let range = (b * spec.pixelsPerClip)..<((b + 1) * spec.pixelsPerClip)
            let ves = Array(batch.vesselness[range])
            #expect(ves.allSatisfy { (0...1).contains($0) })
            let worst = zip(standardised(ves), batch.clips[range]).map { abs($0 - $1) }.max() ?? 1
            #expect(worst < 1e-4)
        }
    }

    /// A sequence without vesselness is an error naming it, or zeros when allowed, reported.
    @Test func missingVesselnessIsAnErrorOrReportedZeros() throws {
        let sequences = [LoaderFixtures.sequence(0, frames: 5, vesselness: false)]
        let strict = try ClipLoader(source: InMemoryClipSource(sequences), spec: spec, seed: 0, batchPerRank: 1)
        let error = #expect(throws: ClipLoaderError.self) { try strict.next() }
        #expect(error == .missingVesselness(sequenceID: "seq-0", sample: 0))
        #expect(error.map { "\($0)".contains("seq-0") && "\($0)".contains("weak labels") } == true)
        // The loader stays failed, with its cursor at the failed step.
        #expect(throws: ClipLoaderError.self) { try strict.next() }
        #expect(strict.cursor.nextSample == 0)

        let lenient = try ClipLoader(source: InMemoryClipSource(sequences), spec: spec, seed: 0, batchPerRank: 2,
                                     options: LoaderOptions(requireVesselness: false))
        let batch = try lenient.next()
        #expect(batch.vesselness.allSatisfy { $0 == 0 })
        #expect(batch.vesselnessMissing == [true, true])
        #expect(lenient.sequencesWithoutVesselness == ["seq-0"])
    }

    /// A source failure surfaces on `next()` with the sequence id and the global sample.
    @Test func sourceErrorsNameTheSequence() throws {
        let source = FailingClipSource(inner: LoaderFixtures.source(count: 3), failingID: "seq-1")
        let loader = try ClipLoader(source: source, spec: spec, seed: 0, batchPerRank: 1, options: LoaderOptions(workers: 2))
        var failure: ClipLoaderError?
        for _ in 0..<3 {
            do { _ = try loader.next() } catch let error as ClipLoaderError { failure = error; break }
        }
        guard case let .sourceFailed(id, sample, underlying) = try #require(failure) else {
            Issue.record("expected sourceFailed, got \(String(describing: failure))"); return
        }
        #expect(id == "seq-1")
        #expect(try ClipSampler(source: source, spec: spec, seed: 0).plan(sample: sample).plan.sequenceID == "seq-1")
        #expect(underlying.contains("checksum"))
    }

    // MARK: - Independent references

    /// Bilinear sample of output pixel (oy, ox) of the plan's crop, half-pixel centres, in Double.
    private func naiveBilinear(plan: ClipPlan, frame: Int, oy: Int, ox: Int) -> Double {
        let ratio = Double(plan.cropSide) / Double(spec.size)
        func taps(_ i: Int) -> (Int, Int, Double) {
            let s = max(0, (Double(i) + 0.5) * ratio - 0.5)
            let i0 = min(Int(s), plan.cropSide - 1)
            return (i0, min(i0 + 1, plan.cropSide - 1), s - Double(i0))
        }
        let (y0, y1, wy) = taps(oy), (x0, x1, wx) = taps(ox)
        func p(_ y: Int, _ x: Int) -> Double {
            Double(LoaderFixtures.pixel(sequence: plan.sequence, frame: frame, y: plan.cropY + y, x: plan.cropX + x))
        }
        return (p(y0, x0) * (1 - wx) + p(y0, x1) * wx) * (1 - wy) + (p(y1, x0) * (1 - wx) + p(y1, x1) * wx) * wy
    }

    private func standardised(_ x: [Float]) -> [Float] {
        let values = x.map(Double.init)
        let mean = values.reduce(0, +) / Double(values.count)
        let std = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)).squareRoot()
        return values.map { Float(($0 - mean) / (std + 1e-6)) }
    }
}
