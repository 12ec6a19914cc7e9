import Foundation

/// Turns a `ClipPlan` into numbers (METHOD §2): decode T frames, crop, resize bilinearly to S×S,
/// scale by the bit depth and standardise per clip; the vesselness layer goes through the same
/// crop and resize.
///
/// Resize: bilinear with half-pixel centres (PyTorch's `interpolate(mode="bilinear",
/// align_corners=False)`, no antialiasing): output pixel i samples the crop at
/// (i + 0.5) * side / S - 0.5, clamped to the crop. Pixels are scaled to [0, 1] by
/// 1 / (2^bitsStored - 1), then standardised with the clip's mean and population standard
/// deviation (over all T*S*S values): (x - mean) / (std + 1e-6). Vesselness is UInt8 / 255.
public enum ClipTransform {
    /// Sampling positions along one axis of the crop: for output i, source indices lo, hi
    /// (absolute, in the full frame) and the weight of hi.
    struct Axis {
        var lo: [Int]
        var hi: [Int]
        var weight: [Float]

        init(offset: Int, side: Int, size: Int) {
            lo = []; hi = []; weight = []
            lo.reserveCapacity(size); hi.reserveCapacity(size); weight.reserveCapacity(size)
            let ratio = Double(side) / Double(size)
            for i in 0..<size {
                let s = max(0, (Double(i) + 0.5) * ratio - 0.5)
                let i0 = min(Int(s.rounded(.down)), side - 1)
                lo.append(offset + i0)
                hi.append(offset + min(i0 + 1, side - 1))
                weight.append(Float(s - Double(i0)))
            }
        }
    }

    /// Fills one clip's pixels and vesselness; returns false when the sequence has no vesselness
    /// layer (and `requireVesselness` is false), in which case `vesselness` is all zeros.
    /// - Parameters:
    ///   - pixels: [T, S, S] standardised pixels (out).
    ///   - vesselness: [T, S, S] in [0, 1] (out).
    public static func fill(plan: ClipPlan, info: SequenceInfo, source: ClipSource, spec: ClipSpec,
                            requireVesselness: Bool,
                            pixels: UnsafeMutableBufferPointer<Float>,
                            vesselness: UnsafeMutableBufferPointer<Float>) throws -> Bool {
        let t = spec.frames, s = spec.size
        let bits = info.bitsStored, bytesPerPixel = info.pixelFormat.bytesPerPixel
        guard bits >= 1 && bits <= 8 * bytesPerPixel else {
            throw ClipLoaderError.unsupportedSequence(
                sequenceID: info.id, sample: plan.sample,
                reason: "bitsStored \(bits) does not fit \(info.pixelFormat.rawValue) pixels; fix the sequence description at ingest")
        }
        let range = plan.start..<(plan.start + t)
        let frames: Data
        let layer: Data?
        do {
            frames = try source.frames(sequence: plan.sequence, range: range)
            layer = try source.layer(.vesselness, sequence: plan.sequence, range: range)
        } catch let error as ClipLoaderError {
            throw error
        } catch {
            throw ClipLoaderError.sourceFailed(sequenceID: info.id, sample: plan.sample, underlying: String(describing: error))
        }
        let frameBytes = info.frameBytes, planeBytes = info.width * info.height
        guard frames.count == t * frameBytes else {
            throw ClipLoaderError.badFrameData(sequenceID: info.id, sample: plan.sample, what: "frames \(range)",
                                               expectedBytes: t * frameBytes, actualBytes: frames.count)
        }
        let xs = Axis(offset: plan.cropX, side: plan.cropSide, size: s)
        let ys = Axis(offset: plan.cropY, side: plan.cropSide, size: s)
        let scale = Float(1.0 / (Double(1 << bits) - 1.0))
        frames.withUnsafeBytes { raw in
            for f in 0..<t {
                let out = pixels.baseAddress! + f * s * s
                if bytesPerPixel == 1 {
                    resize(raw, as: UInt8.self, frameOffset: f * planeBytes, width: info.width, xs: xs, ys: ys, size: s, scale: scale, into: out)
                } else {
                    resize(raw, as: UInt16.self, frameOffset: f * planeBytes, width: info.width, xs: xs, ys: ys, size: s, scale: scale, into: out)
                }
            }
        }
        standardise(UnsafeMutableBufferPointer(rebasing: pixels[0..<(t * s * s)]))

        guard let layer else {
            if requireVesselness { throw ClipLoaderError.missingVesselness(sequenceID: info.id, sample: plan.sample) }
            UnsafeMutableBufferPointer(rebasing: vesselness[0..<(t * s * s)]).update(repeating: 0)
            return false
        }
        guard layer.count == t * planeBytes else {
            throw ClipLoaderError.badFrameData(sequenceID: info.id, sample: plan.sample, what: "vesselness layer \(range)",
                                               expectedBytes: t * planeBytes, actualBytes: layer.count)
        }
        layer.withUnsafeBytes { raw in
            for f in 0..<t {
                resize(raw, as: UInt8.self, frameOffset: f * planeBytes, width: info.width, xs: xs, ys: ys, size: s,
                       scale: 1 / 255, into: vesselness.baseAddress! + f * s * s)
            }
        }
        return true
    }

    /// Bilinear resize of one frame's crop to S×S, times `scale`.
    /// - Parameters:
    ///   - raw: the frames, [T, H, W] of little-endian `P`; the frame starts at `frameOffset` pixels.
    ///   - out: [S, S].
    @inline(__always)
    static func resize<P: FixedWidthInteger & UnsignedInteger>(
        _ raw: UnsafeRawBufferPointer, as: P.Type, frameOffset: Int, width: Int,
        xs: Axis, ys: Axis, size s: Int, scale: Float, into out: UnsafeMutablePointer<Float>
    ) {
        let stride = MemoryLayout<P>.size
        @inline(__always) func value(_ index: Int) -> Float {
            Float(P(littleEndian: raw.loadUnaligned(fromByteOffset: (frameOffset + index) * stride, as: P.self)))
        }
        xs.lo.withUnsafeBufferPointer { xLo in
            xs.hi.withUnsafeBufferPointer { xHi in
                xs.weight.withUnsafeBufferPointer { xWeight in
                    for oy in 0..<s {
                        let row0 = ys.lo[oy] * width, row1 = ys.hi[oy] * width, wy = ys.weight[oy]
                        let line = out + oy * s
                        for ox in 0..<s {
                            let x0 = xLo[ox], x1 = xHi[ox], wx = xWeight[ox]
                            let top = value(row0 + x0) * (1 - wx) + value(row0 + x1) * wx
                            let bottom = value(row1 + x0) * (1 - wx) + value(row1 + x1) * wx
                            line[ox] = (top * (1 - wy) + bottom * wy) * scale
                        }
                    }
                }
            }
        }
    }

    /// In place: (x - mean) / (std + 1e-6), population std. Sums run in Float SIMD lanes over
    /// blocks of 4096 values and in Double across blocks: fast, accurate, and deterministic.
    static func standardise(_ x: UnsafeMutableBufferPointer<Float>) {
        guard let base = x.baseAddress, x.count > 0 else { return }
        let n = x.count
        func blockedSum(_ term: (Float) -> Float) -> Double {
            var total = 0.0
            var start = 0
            while start < n {
                let end = min(n, start + 4096)
                var lanes = SIMD8<Float>(repeating: 0)
                var i = start
                while i + 8 <= end {
                    var v = SIMD8<Float>()
                    for k in 0..<8 { v[k] = term(base[i + k]) }
                    lanes += v
                    i += 8
                }
                var rest: Float = 0
                while i < end { rest += term(base[i]); i += 1 }
                total += Double(lanes.sum()) + Double(rest)
                start = end
            }
            return total
        }
        let mean = blockedSum { $0 } / Double(n)
        let m = Float(mean)
        let variance = blockedSum { ($0 - m) * ($0 - m) } / Double(n)
        let inverse = Float(1 / (variance.squareRoot() + 1e-6))
        for i in 0..<n { base[i] = (base[i] - m) * inverse }
    }
}
