import Foundation

extension ModelConfig {
    /// The config described by a reference fixture's "config" metadata JSON
    /// ({T, S, tt, p, D, depth, heads, Dd, ddepth, dheads, fslots, tube, frame, w_rec, w_ves, ...}).
    public init(referenceMetadata json: String) throws {
        guard let data = json.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ConfigError.unreadable(file: "fixture metadata", reason: "the \"config\" entry is not a JSON object")
        }
        func int(_ key: String) throws -> Int {
            guard let n = object[key] as? NSNumber else {
                throw ConfigError.unreadable(file: "fixture metadata", reason: "missing integer field '\(key)'")
            }
            return n.intValue
        }
        func double(_ key: String, _ fallback: Double) -> Double { (object[key] as? NSNumber)?.doubleValue ?? fallback }
        self.init(frames: try int("T"), size: try int("S"), tubelet: try int("tt"), patch: try int("p"),
                  width: try int("D"), depth: try int("depth"), heads: try int("heads"),
                  decoderWidth: try int("Dd"), decoderDepth: try int("ddepth"), decoderHeads: try int("dheads"),
                  tubeRatio: double("tube", 0.75), frameRatio: double("frame", 0.98), frameMaskedSlots: try int("fslots"),
                  wRec: Float(double("w_rec", 1)), wVes: Float(double("w_ves", 1)))
        try validate()
    }
}
