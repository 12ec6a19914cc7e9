#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import FluoroShards
import FluoroSupport

/// Renders every frame of one scene: attenuation line integrals of anatomy, contrast and devices,
/// intensity I0·exp(−μ), Gaussian-approximated quantum noise, detector blur, vignetting and
/// collimation, and an 8-bit display curve; with the label layers and landmark annotations.
struct SequenceRenderer {
    let scene: Scene
    let config: SimulatorConfig
    let index: Int
    let size: Int
    let mmPerPixel: Float
    /// Tubes resampled to ≤ 2.5 px steps (scene units; radii in mm).
    let tubes: [SceneTube]

    init(scene: Scene, config: SimulatorConfig, index: Int) {
        self.scene = scene
        self.config = config
        self.index = index
        size = config.size
        mmPerPixel = Float(config.pixelSpacingMm)
        let step = 2.5 / Float(config.size)
        tubes = scene.tubes.map { var t = $0; t.line = t.line.resampled(maxStep: step); return t }
    }

    /// Result of the occlusion test for one landmark (attenuations are dimensionless μ·L).
    struct Occlusion {
        /// The landmark's own attenuation at its position.
        var own: Float
        /// Attenuation there from contrast and from devices outside the tracked chain.
        var foreign: Float
        var occluded: Bool
    }

    /// One tube in frame pixels at one time, with its effective attenuation per pixel of path.
    struct PlacedTube {
        var points: [V2]
        var radii: [Float]
        var mu: Float
        var role: TubeRole
    }

    /// Places every tube at time t (seconds).
    func place(at t: Float) -> [PlacedTube] {
        let st = scene.motion.state(at: t)
        let px = Float(size)
        return tubes.map { tube in
            let pts = tube.line.points.map { p -> V2 in
                (tube.cardiac ? scene.motion.apply(p, st) : p + st.breathing) * px
            }
            let radii = tube.line.radii.map { $0 / mmPerPixel }
            var mu = tube.mu * mmPerPixel
            switch tube.role {
            case .vessel: mu *= scene.contrast(at: t, delay: tube.contrastDelay)
            case .catheterLumen: mu *= scene.contrast(at: t)
            default: break
            }
            return PlacedTube(points: pts, radii: radii, mu: mu, role: tube.role)
        }
    }

    /// Landmarks at time t (frame pixels): the tip, then the markers.
    func landmarks(at t: Float) -> (tip: V2, markers: [V2]) {
        let st = scene.motion.state(at: t)
        let px = Float(size)
        return (scene.motion.apply(scene.tipAtRest, st) * px, scene.markersAtRest.map { scene.motion.apply($0, st) * px })
    }

    /// A landmark is occluded when the attenuation at its position from contrast (vessels and the
    /// catheter lumen) and from distractor devices is at least `occlusionFraction` × its own
    /// attenuation (the catheter's at the tip, the marker band's at a marker). The guidewire,
    /// balloon and shaft belong to the same chain and never occlude it; anatomy never does.
    func occlusion(of point: V2, ownRole: TubeRole, placed: [PlacedTube]) -> Occlusion {
        var own: Float = 0, foreign: Float = 0
        for tube in placed {
            let isOwn = tube.role == ownRole
            let isForeign = tube.role == .vessel || tube.role == .catheterLumen || tube.role == .distractor
            guard isOwn || (isForeign && tube.mu != 0) else { continue }
            let v = tube.mu * TubeCanvas.pathLength(at: point, points: tube.points, radii: tube.radii)
            if isOwn { own += v } else { foreign += v }
        }
        return Occlusion(own: own, foreign: foreign, occluded: own > 0 && foreign >= Float(config.occlusionFraction) * own)
    }

    /// True when a point is inside the frame.
    func inFrame(_ p: V2) -> Bool { p.x >= 0 && p.y >= 0 && p.x < Float(size) && p.y < Float(size) }

    /// What every frame of one sequence shares: the padded anatomy map, the detector's gain and
    /// display curve, the blur kernel, the photon count, and the canvas tubes are drawn on.
    struct Exposure {
        let margin: Int
        let background: [Float]          // [n + 2·margin, n + 2·margin]
        let gain: [Float]                // [n, n]
        let table: [UInt8]               // the display curve, lutSize entries over [0, lutTop]
        let lutSize = 4096, lutTop: Float = 1.25
        let kernel: [Float]
        let photons: Float               // per pixel at full intensity, at this size
        let canvas: TubeCanvas

        init(_ r: SequenceRenderer) {
            let n = r.size
            margin = max(2, Int((0.06 * Float(n)).rounded(.up)))
            background = r.scene.anatomy.backgroundMap(size: n, margin: margin)
            gain = r.scene.detector.gainMap(size: n)
            table = r.scene.detector.displayTable(lutSize: lutSize, lutTop: lutTop)
            kernel = gaussianKernel(sigma: max(0.35, 1.0 * Float(n) / 512))
            photons = Float(r.config.photonsPerPixel) * (512 / Float(n)) * (512 / Float(n))
            canvas = TubeCanvas(width: n, height: n)
        }
    }

    /// The layers of a sequence being rendered, [frames, n, n] each.
    struct Layers {
        var pixels, vesselMask, catheterMask, vesselness: [UInt8]
        init(count: Int) {
            pixels = [UInt8](repeating: 0, count: count); vesselMask = pixels; catheterMask = pixels; vesselness = pixels
        }
    }

    /// Renders all frames into a `FrameSequence` with every layer and annotation.
    func render() -> FrameSequence {
        let n = size, area = n * n
        let exposure = Exposure(self)
        var layers = Layers(count: config.frames * area)
        var soft = [Float](repeating: 0, count: area), signal = [Float](repeating: 0, count: area)
        var annotations: [FrameAnnotation] = []
        for f in 0 ..< config.frames {
            let t = Float(f) * Float(config.frameTimeMs) / 1000
            drawAnatomy(at: t, exposure)
            let placed = place(at: t)
            drawTubes(placed, at: t, frame: f, exposure.canvas, &layers, soft: &soft)
            annotations.append(annotation(at: t, placed: placed))
            expose(frame: f, exposure, &layers, soft: soft, signal: &signal)
        }
        let info = SequenceInfo(id: "syn-\(config.seed)-\(index)", frameCount: config.frames, width: n, height: n,
                                pixelFormat: .uint8, bitsStored: 8, frameTimeMs: config.frameTimeMs,
                                pixelSpacingMm: [config.pixelSpacingMm, config.pixelSpacingMm], modality: "SYN",
                                source: scene.angio ? "synth:angio" : "synth:fluoro")
        return FrameSequence(info: info, pixels: Data(layers.pixels),
                             layers: [.vesselMask: Data(layers.vesselMask), .catheterMask: Data(layers.catheterMask),
                                      .vesselness: Data(layers.vesselness)],
                             annotations: annotations)
    }

    /// 1. Anatomy: the static map shifted with breathing (bilinear), plus the beating heart, into
    /// the canvas's attenuation [n, n].
    func drawAnatomy(at t: Float, _ e: Exposure) {
        let n = size, side = n + 2 * e.margin, px = Float(n), anatomy = scene.anatomy
        let st = scene.motion.state(at: t)
        let shift = st.breathing * px
        let sx = Float(e.margin) - shift.x, sy = Float(e.margin) - shift.y
        let ix = Int(sx.rounded(.down)), iy = Int(sy.rounded(.down))
        let fx = sx - Float(ix), fy = sy - Float(iy)
        let hc = scene.motion.apply(anatomy.heartCentre, st) * px
        let axes = anatomy.heartAxes * (1 - st.scale) * px
        let inverseAxes = V2(1 / (axes.x * axes.x), 1 / (axes.y * axes.y))
        e.canvas.attenuation.withUnsafeMutableBufferPointer { mu in
            e.background.withUnsafeBufferPointer { bg in
                for y in 0 ..< n {
                    let r0 = (min(max(y + iy, 0), side - 2)) * side
                    let dy = Float(y) + 0.5 - hc.y
                    for x in 0 ..< n {
                        let c = min(max(x + ix, 0), side - 2)
                        let a = bg[r0 + c] + (bg[r0 + c + 1] - bg[r0 + c]) * fx
                        let b = bg[r0 + side + c] + (bg[r0 + side + c + 1] - bg[r0 + side + c]) * fx
                        let dx = Float(x) + 0.5 - hc.x
                        mu[y * n + x] = a + (b - a) * fy + anatomy.heartMu * anatomy.heartThickness(dx, dy, inverseAxes)
                    }
                }
            }
        }
    }

    /// 2. Vessels, devices and distractors onto the canvas, with frame f's vessel and catheter
    /// masks and the contrast-weighted vessel map `soft` [n, n].
    func drawTubes(_ placed: [PlacedTube], at t: Float, frame f: Int, _ canvas: TubeCanvas, _ layers: inout Layers, soft: inout [Float]) {
        let area = size * size
        for i in soft.indices { soft[i] = 0 }
        layers.vesselMask.withUnsafeMutableBufferPointer { vm in
            layers.catheterMask.withUnsafeMutableBufferPointer { cm in
                soft.withUnsafeMutableBufferPointer { sp in
                    for (k, tube) in placed.enumerated() {
                        var labels = TubeCanvas.Labels()
                        if tube.role == .vessel {
                            labels.mask = vm.baseAddress! + f * area
                            labels.soft = sp.baseAddress!
                            labels.softWeight = scene.contrast(at: t, delay: tubes[k].contrastDelay)
                            if labels.softWeight <= 0 { labels.soft = nil }
                        } else if tube.role == .catheter {
                            labels.mask = cm.baseAddress! + f * area
                        }
                        canvas.drawTube(points: tube.points, radii: tube.radii, mu: tube.mu, labels: labels)
                    }
                }
            }
        }
    }

    /// 3. The frame's landmarks (those inside it) and whether any is occluded.
    func annotation(at t: Float, placed: [PlacedTube]) -> FrameAnnotation {
        let marks = landmarks(at: t)
        var annotation = FrameAnnotation()
        var occluded = false
        if inFrame(marks.tip) {
            annotation.tip = Point2(x: marks.tip.x, y: marks.tip.y)
            occluded = occluded || occlusion(of: marks.tip, ownRole: .catheter, placed: placed).occluded
        }
        if marks.markers.count == 2 && marks.markers.allSatisfy(inFrame) {
            annotation.markers = marks.markers.map { Point2(x: $0.x, y: $0.y) }
            for (k, m) in marks.markers.enumerated() {
                occluded = occluded || occlusion(of: m, ownRole: .marker(k), placed: placed).occluded
            }
        }
        annotation.occluded = occluded
        return annotation
    }

    /// 4. Detector: intensity, quantum noise, blur and display into frame f's pixels; the vessel
    /// map `soft` stored as frame f's vesselness bytes. `signal` [n, n] is scratch.
    func expose(frame f: Int, _ e: Exposure, _ layers: inout Layers, soft: [Float], signal: inout [Float]) {
        let area = size * size
        var noise = SplitMix64.derived(from: config.seed, UInt64(truncatingIfNeeded: index), 0x901_5E, UInt64(f))
        e.canvas.attenuation.withUnsafeBufferPointer { mu in
            e.gain.withUnsafeBufferPointer { g in
                signal.withUnsafeMutableBufferPointer { s in
                    let inverseN = 1 / e.photons
                    for i in 0 ..< area {
                        let clean = g[i] * expf(-mu[i])
                        let bits = noise.next()
                        // Irwin–Hall: four 16-bit uniforms, mean 2, variance 1/3 → ≈ N(0, 1).
                        let sum = Float(bits & 0xFFFF) + Float((bits >> 16) & 0xFFFF) + Float((bits >> 32) & 0xFFFF) + Float(bits >> 48)
                        let z = (sum * (1 / 65536) - 2) * 1.7320508
                        s[i] = max(0, clean + (clean * inverseN).squareRoot() * z)
                    }
                }
            }
        }
        blur(&signal, kernel: e.kernel, size: size)
        let scale = Float(e.lutSize - 1) / e.lutTop, top = e.lutSize - 1
        layers.pixels.withUnsafeMutableBufferPointer { out in
            signal.withUnsafeBufferPointer { s in
                e.table.withUnsafeBufferPointer { lut in
                    for i in 0 ..< area { out[f * area + i] = lut[min(Int(s[i] * scale + 0.5), top)] }
                }
            }
        }
        layers.vesselness.withUnsafeMutableBufferPointer { vs in
            soft.withUnsafeBufferPointer { sp in
                for i in 0 ..< area { vs[f * area + i] = UInt8(min(sp[i], 1) * 255 + 0.5) }
            }
        }
    }
}

/// Separable Gaussian blur in place, [size, size]; edges clamp.
func blur(_ image: inout [Float], kernel: [Float], size n: Int) {
    let r = kernel.count / 2
    var temp = [Float](repeating: 0, count: n * n)
    image.withUnsafeBufferPointer { src in
        temp.withUnsafeMutableBufferPointer { dst in
            kernel.withUnsafeBufferPointer { k in
                for y in 0 ..< n {
                    let row = y * n
                    for x in 0 ..< n {
                        var acc: Float = 0
                        if x >= r && x < n - r {
                            for j in -r ... r { acc += k[j + r] * src[row + x + j] }
                        } else {
                            for j in -r ... r { acc += k[j + r] * src[row + min(max(x + j, 0), n - 1)] }
                        }
                        dst[row + x] = acc
                    }
                }
            }
        }
    }
    // Vertical pass row by row (contiguous, vectorisable): out row y = Σ_j k[j] · temp row clamp(y + j).
    image.withUnsafeMutableBufferPointer { dst in
        temp.withUnsafeBufferPointer { src in
            kernel.withUnsafeBufferPointer { k in
                for y in 0 ..< n {
                    let out = dst.baseAddress! + y * n
                    for x in 0 ..< n { out[x] = 0 }
                    for j in -r ... r {
                        let w = k[j + r]
                        let row = src.baseAddress! + min(max(y + j, 0), n - 1) * n
                        for x in 0 ..< n { out[x] += w * row[x] }
                    }
                }
            }
        }
    }
}
