/// What a tube in the scene is; decides its labels and whether it can occlude a landmark.
enum TubeRole: Equatable {
    /// A coronary vessel (lumen): in the vessel mask; opaque only with contrast.
    case vessel
    /// The guiding catheter body: in the catheter mask; its end is the tip landmark.
    case catheter
    /// Contrast inside the guiding catheter during injection.
    case catheterLumen
    /// Guidewire, balloon shaft, balloon and markers: the device chain the landmarks belong to.
    case chain
    /// A balloon marker (also part of the chain); index 0 or 1.
    case marker(Int)
    /// Wires, sternal wires, clips that are not part of the chain: they can occlude landmarks.
    case distractor
}

/// One tube of the scene: a centreline in scene units with radii in mm, what it is, its
/// attenuation per mm, and how it moves.
struct SceneTube {
    var line: Polyline
    var role: TubeRole
    /// Attenuation per millimetre of path (for vessels and lumen: of full-strength contrast).
    var mu: Float
    /// Seconds after the injection reaches the ostium until contrast reaches this vessel.
    var contrastDelay: Float = 0
    /// True when it moves with the heart (cardiac + respiratory); false: respiratory only.
    var cardiac: Bool = true
}

/// Attenuation coefficients (per mm) and sizes (mm) of the materials, chosen so that on an 8-bit
/// display a main vessel at full contrast, the catheter and the markers look like ../data/real/.
enum Material {
    /// Iodinated contrast at full opacification.
    static let contrast: Float = 0.4
    /// Guiding catheter (braided polymer).
    static let catheter: Float = 0.42
    static let catheterRadiusMm: Float = 1.0
    /// Guidewire core and its radiopaque distal coil.
    static let wire: Float = 1.3
    static let wireRadiusMm: Float = 0.18
    static let wireTip: Float = 2.0
    /// Balloon catheter shaft and folded balloon.
    static let shaft: Float = 0.45
    static let shaftRadiusMm: Float = 0.4
    static let balloonRadiusMm: Float = 0.7
    /// Platinum-iridium marker bands.
    static let marker: Float = 1.9
    static let markerRadiusMm: Float = 0.45
    static let markerLengthMm: Float = 1.2
    /// Stainless steel (sternal wires, clips, ECG lead cores).
    static let steel: Float = 2.4
}
