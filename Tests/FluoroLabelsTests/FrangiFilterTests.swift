import FluoroLabels
import FluoroShards
import FluoroSim
import Foundation
import Testing

@Suite struct FrangiFilterTests {
    /// ROC AUC of `scores` for separating `positive` pixels from the rest (ties count half).
    static func areaUnderCurve(_ scores: [Float], positive: [Bool]) -> Double {
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var rankSumPositive = 0.0, i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count, scores[order[j + 1]] == scores[order[i]] { j += 1 }
            let rank = Double(i + j) / 2 + 1
            for k in i ... j where positive[order[k]] { rankSumPositive += rank }
            i = j + 1
        }
        let p = Double(positive.filter { $0 }.count), n = Double(positive.count) - p
        return (rankSumPositive - p * (p + 1) / 2) / (p * n)
    }

    /// A bright background (0.8) with a horizontal band of `value` rows `rows`. [size, size]
    static func lineImage(size: Int, rows: Range<Int>, value: Float) -> [Float] {
        var image = [Float](repeating: 0.8, count: size * size)
        for y in rows { for x in 0 ..< size { image[y * size + x] = value } }
        return image
    }

    @Test func separatesSimulatedVesselsFromBackground() throws {
        let sequence = XRaySimulator(config: SimulatorConfig(frames: 2, size: 128, kind: .angio, seed: 1)).sequence(index: 0)
        let info = sequence.info
        let plane = info.width * info.height
        let mask = try #require(sequence.layers[.vesselMask])
        // The frame with the most opacified vessel pixels.
        let frame = try #require((0 ..< info.frameCount).max { a, b in
            mask[a * plane ..< (a + 1) * plane].filter { $0 > 0 }.count < mask[b * plane ..< (b + 1) * plane].filter { $0 > 0 }.count
        })
        let layer = try VesselnessLabeller().label(pixels: sequence.pixels, info: info, frameCount: info.frameCount)
        let response = layer[frame * plane ..< (frame + 1) * plane].map { Float($0) / 255 }
        let inside = mask[frame * plane ..< (frame + 1) * plane].map { $0 > 0 }
        #expect(inside.filter { $0 }.count > 100)
        let auc = Self.areaUnderCurve(response, positive: inside)
        var sumIn = 0.0, sumOut = 0.0
        for i in 0 ..< plane { if inside[i] { sumIn += Double(response[i]) } else { sumOut += Double(response[i]) } }
        let ratio = (sumIn / Double(inside.filter { $0 }.count)) / (sumOut / Double(inside.filter { !$0 }.count))
        print("Frangi on simulator frame \(frame): ROC AUC \(auc), mean inside/outside \(ratio)")
        // Measured: AUC 0.924, ratio 12.9 (a wrong Hxy gave 0.861 and 3.6).
        #expect(auc > 0.9)
        #expect(ratio > 8)
    }

    @Test func outputIsInUnitRangeDeterministicAndThreadIndependent() throws {
        let sequence = XRaySimulator(config: SimulatorConfig(frames: 3, size: 64, kind: .angio, seed: 2)).sequence(index: 1)
        let info = sequence.info
        let one = try VesselnessLabeller(threads: 1).label(pixels: sequence.pixels, info: info, frameCount: info.frameCount)
        let again = try VesselnessLabeller(threads: 1).label(pixels: sequence.pixels, info: info, frameCount: info.frameCount)
        let two = try VesselnessLabeller(threads: 2).label(pixels: sequence.pixels, info: info, frameCount: info.frameCount)
        #expect(one.count == info.frameCount * info.width * info.height)
        #expect(one == again)
        #expect(one == two)
        #expect(one.max() == 255)   // normalised per frame: the strongest pixel is 1

        let image = (0 ..< 40 * 30).map { Float(($0 * 7919) % 101) / 100 }
        let response = FrangiFilter().vesselness(image, width: 40, height: 30)
        #expect(response.allSatisfy { $0 >= 0 && $0 <= 1 })
        #expect(response.max() == 1)
        #expect(FrangiFilter().vesselness(image, width: 40, height: 30) == response)
    }

    @Test func darkLineRespondsOnTheLineAndBrightLineDoesNot() throws {
        let size = 96
        // A dark line 3 px wide (rows 46...48, centre row 47) on a bright background.
        let filter = FrangiFilter(sigmas: [1, 2, 3], referenceSide: size, suppressShutters: false)
        let dark = filter.vesselness(Self.lineImage(size: size, rows: 46 ..< 49, value: 0.2), width: size, height: size)
        let peak = try #require(dark.indices.max { dark[$0] < dark[$1] })
        #expect((46 ..< 49).contains(peak / size))
        // Along the middle column: the centre row is the maximum, far rows are ~0.
        let column = (0 ..< size).map { dark[$0 * size + size / 2] }
        #expect(column[47] > 0.9)
        #expect(column[20] < 0.01 && column[75] < 0.01)

        // A diagonal dark line (|x − y| ≤ 1) exercises the mixed derivative Hxy.
        var diagonal = [Float](repeating: 0.8, count: size * size)
        for y in 0 ..< size { for x in 0 ..< size where abs(x - y) <= 1 { diagonal[y * size + x] = 0.2 } }
        let tilted = filter.vesselness(diagonal, width: size, height: size)
        #expect(tilted[48 * size + 48] > 0.9)
        #expect(tilted[20 * size + 70] < 0.01 && tilted[70 * size + 20] < 0.01)
        // Isotropic: the diagonal centre responds like the horizontal one (within 10%).
        #expect(abs(tilted[48 * size + 48] - column[47]) < 0.1)

        let bright = FrangiFilter(sigmas: [1, 2, 3], referenceSide: size, suppressShutters: false)
            .vesselness(Self.lineImage(size: size, rows: 46 ..< 49, value: 1.0).map { $0 - 0.5 }, width: size, height: size)
        // Only the dark flanks of a bright line are dark ridges; on the line itself the response is ~0.
        #expect(bright[47 * size + size / 2] < 0.01)
        #expect((bright.max() ?? 1) <= 1)
    }

    @Test func blackShutterIsNotAVessel() throws {
        // A 96 px frame: a black shutter 12 px wide all round, a dark vertical line in the field.
        let size = 96, band = 12
        var image = Self.lineImage(size: size, rows: 0 ..< 0, value: 0)
        for y in 0 ..< size { for x in 46 ..< 49 { image[y * size + x] = 0.3 } }
        for y in 0 ..< size { for x in 0 ..< size where min(x, y, size - 1 - x, size - 1 - y) < band { image[y * size + x] = 0 } }
        let filter = FrangiFilter(sigmas: [1, 2, 4, 8], referenceSide: size)
        let suppressed = filter.vesselness(image, width: size, height: size)
        let row = (0 ..< size).map { suppressed[size / 2 * size + $0] }
        #expect(row[47] == 1)
        // Just inside the field edge, away from the line: no response.
        #expect(row[band + 1] < 0.05 && row[size - band - 2] < 0.05)
        #expect(row[0] == 0)
        // Without suppression the field edge is a strong false vessel.
        var plain = filter
        plain.suppressShutters = false
        let edge = plain.vesselness(image, width: size, height: size)[size / 2 * size + band - 1]
        #expect(edge > 0.3)
    }

    @Test func sigmasScaleWithTheFrame() {
        #expect(FrangiFilter().scaledSigmas(width: 512, height: 512) == [1, 3, 5, 7, 9])
        #expect(FrangiFilter().scaledSigmas(width: 1024, height: 768) == [2, 6, 10, 14, 18])
        #expect(FrangiFilter().scaledSigmas(width: 128, height: 128) == [0.5, 0.75, 1.25, 1.75, 2.25])
    }

    @Test func wrongPixelCountIsAnError() {
        let info = SequenceInfo(id: "s", frameCount: 2, width: 8, height: 8, pixelFormat: .uint8, bitsStored: 8,
                                frameTimeMs: nil, pixelSpacingMm: nil, modality: "XA", source: "test")
        #expect(throws: LabelError.pixelSize(sequence: "s", expected: 128, got: 100)) {
            try VesselnessLabeller().label(pixels: Data(count: 100), info: info, frameCount: 2)
        }
    }
}
