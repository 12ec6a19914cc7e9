import FluoroTensor

/// The stored vesselness byte of a U-Net logit: round(sigmoid(logit) · 255), as Frangi's layer.
enum VesselnessQuantiser {
    @inline(__always) static func byte(logit: Float) -> UInt8 {
        UInt8(clamping: Int((Losses.sigmoid(logit) * 255).rounded()))
    }
}
