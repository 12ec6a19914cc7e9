import CTurboJPEG
import Foundation
import Testing
@testable import FluoroShards

/// Compression ratio and single-thread decode speed of the shard reader against `lz4 -d` on the
/// same LZ4 frames. Off by default (it takes a while and speed needs a release build):
/// `swift build -c release --build-tests -Xswiftc -enable-testing &&
///  FLUORO_BENCH=1 swift test -c release --skip-build --filter ShardBenchmark`
/// Asserts only correctness; the numbers are printed.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["FLUORO_BENCH"] == "1"))
struct ShardBenchmark {
    typealias S = ShardTestSupport

    /// Noisy 8-bit frames like low-dose fluoroscopy: a smooth background with dark ridges and quantum noise.
    static func noisyFrames(frames t: Int, side n: Int, seed: UInt64, sixteenBit: Bool = false) -> Data {
        var state = seed
        func uniform() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 53)
        }
        let bytesPerPixel = sixteenBit ? 2 : 1
        var data = Data(count: t * n * n * bytesPerPixel)
        data.withUnsafeMutableBytes { out in
            for f in 0..<t {
                for y in 0..<n {
                    for x in 0..<n {
                        let background = 150 + 40 * sin(Double(x) / 50 + Double(f) / 9) * cos(Double(y) / 70)
                        let ridge = 50 * exp(-pow((Double(x) - 256 - 30 * sin(Double(y) / 40 + Double(f) / 5)) / 6, 2))
                        let noise = (uniform() + uniform() + uniform() - 1.5) * 8   // σ ≈ 4 levels
                        let v = max(0, min(255, background - ridge + noise))
                        let i = (f * n + y) * n + x
                        if sixteenBit {
                            out.storeBytes(of: UInt16(v * 16).littleEndian, toByteOffset: 2 * i, as: UInt16.self)
                        } else {
                            out[i] = UInt8(v)
                        }
                    }
                }
            }
        }
        return data
    }

    /// JPEG frames of a multi-frame DICOM, found by their SOI/EOI markers and decoded to 8-bit gray.
    static func dicomFrames(_ url: URL) throws -> (frames: Data, count: Int, width: Int, height: Int) {
        let bytes = [UInt8](try Data(contentsOf: url))
        let handle = tjInitDecompress()
        defer { tjDestroy(handle) }
        var out = Data(), count = 0, width = 0, height = 0
        var i = 0
        while i + 3 < bytes.count {
            guard bytes[i] == 0xFF, bytes[i + 1] == 0xD8, bytes[i + 2] == 0xFF else { i += 1; continue }
            var j = i + 2
            while j + 1 < bytes.count, !(bytes[j] == 0xFF && bytes[j + 1] == 0xD9) { j += 1 }
            let jpeg = Array(bytes[i..<min(j + 2, bytes.count)])
            var w: Int32 = 0, h: Int32 = 0, sub: Int32 = 0, space: Int32 = 0
            if tjDecompressHeader3(handle, jpeg, UInt(jpeg.count), &w, &h, &sub, &space) == 0 {
                var frame = [UInt8](repeating: 0, count: Int(w * h))
                if tjDecompress2(handle, jpeg, UInt(jpeg.count), &frame, w, 0, h, Int32(TJPF_GRAY.rawValue), 0) == 0 {
                    out.append(contentsOf: frame)
                    count += 1; width = Int(w); height = Int(h)
                }
            }
            i = j + 2
        }
        return (out, count, width, height)
    }

    static func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }

    /// Packs `sequences`, then times a single-thread decode of every frame and `lz4 -d` of the same frames.
    func measure(_ label: String, _ sequences: [FrameSequence], shuffle16: Bool = true) throws {
        let dir = S.scratchDirectory(label)
        defer { try? FileManager.default.removeItem(at: dir) }
        let writer = try ShardDatasetWriter(directory: dir)
        writer.shuffle16 = shuffle16
        for s in sequences { try writer.append(s) }
        let manifest = try writer.finish()
        let dataset = try ShardDataset(directory: dir)
        let r = try DecodeBenchmark.measure(dataset, scratch: dir.appendingPathComponent("bench"))
        for i in 0..<sequences.count { #expect(try dataset.frames(sequence: i, range: 0..<sequences[i].info.frameCount) == sequences[i].pixels) }
        let (raw, oursGBs, theirsGBs) = (r.rawBytes, r.readerGBps, r.lz4GBps)
        let stored = r.storedBytes
        print(String(format: "BENCH %@: %d frames, %.1f MB raw, ratio %.3f, reader %.2f GB/s, lz4 -d %.2f GB/s (reader/lz4 = %.2f)",
                     label, manifest.frameCount, Double(raw) / 1e6, Double(raw) / Double(stored), oursGBs, theirsGBs, oursGBs / theirsGBs))
    }

    @Test func noisy8Bit() throws {
        let sequences = (0..<4).map { k in
            FrameSequence(info: SequenceInfo(id: "noisy\(k)", frameCount: 64, width: 512, height: 512, pixelFormat: .uint8,
                                             bitsStored: 8, modality: "SYN", source: "bench"),
                          pixels: Self.noisyFrames(frames: 64, side: 512, seed: UInt64(k + 1)))
        }
        try measure("noisy 8-bit 512x512", sequences)
    }

    @Test func noisy12BitWithAndWithoutShuffle() throws {
        let sequences = (0..<2).map { k in
            FrameSequence(info: SequenceInfo(id: "noisy16-\(k)", frameCount: 64, width: 512, height: 512, pixelFormat: .uint16,
                                             bitsStored: 12, modality: "SYN", source: "bench"),
                          pixels: Self.noisyFrames(frames: 64, side: 512, seed: UInt64(k + 7), sixteenBit: true))
        }
        try measure("noisy 12-bit in uint16, shuffle16", sequences)
        try measure("noisy 12-bit in uint16, no filter", sequences, shuffle16: false)
    }

    @Test func realDICOMFrames() throws {
        let fixtures = S.repositoryRoot.appendingPathComponent("Tests/FluoroShardsTests/Fixtures/dicom")
        var sequences: [FrameSequence] = []
        for name in ["xa_balloon_17f.dcm", "xa_rca_96f.dcm"] {
            let d = try Self.dicomFrames(fixtures.appendingPathComponent(name))
            #expect(d.count > 0)
            sequences.append(FrameSequence(info: SequenceInfo(id: name, frameCount: d.count, width: d.width, height: d.height,
                                                              pixelFormat: .uint8, bitsStored: 8, modality: "XA", source: "dicom bench"),
                                           pixels: d.frames))
        }
        // Repeat the runs so the timing is not dominated by process start-up.
        try measure("real XA DICOM (JPEG-decoded) 512x512", Array(repeating: sequences, count: 4).flatMap { $0 })
    }
}
