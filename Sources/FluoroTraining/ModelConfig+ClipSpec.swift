import FluoroModel
import FluoroShards

extension ModelConfig {
    /// The loader's view of this model: clip shape and mask settings (METHOD §2, §4).
    public var clipSpec: ClipSpec {
        var spec = ClipSpec(frames: frames, size: size, tubelet: tubelet, patch: patch, tubeRatio: tubeRatio,
                            frameRatio: frameRatio, frameMaskedSlots: frameMaskedSlots)
        if let minimumCropScale { spec.minimumScale = minimumCropScale }
        if let maximumCropScale { spec.maximumScale = maximumCropScale }
        return spec
    }
}
