import Foundation
import Testing
import FluoroModel
import FluoroShards
@testable import FluoroTraining

/// `minimumCropScale` (not METHOD §2 unless absent): an optional ModelConfig field that a JSON
/// override may set, that reaches the loader's ClipSpec, is validated, and is left out of configs
/// (and so of old runs' and encoders' files) when unset.
@Suite struct CropScaleConfigTests {
    @Test func absentMeansMethodsScaleAndStaysOutOfTheJSON() throws {
        let bench = try ModelConfig.preset("bench")
        #expect(bench.minimumCropScale == nil)
        #expect(bench.clipSpec.minimumScale == 0.66)
        let json = String(decoding: try JSONEncoder().encode(bench), as: UTF8.self)
        #expect(!json.contains("minimumCropScale") && !json.contains("maximumCropScale"))
        #expect(bench.clipSpec.maximumScale == 1)
        #expect(try JSONDecoder().decode(ModelConfig.self, from: Data(json.utf8)) == bench, "a config written before the field decodes")
    }

    @Test func anOverrideReachesTheLoaderAndIsChecked() throws {
        let bench = try ModelConfig.preset("bench")
        let half = try bench.overriding(withJSON: Data(#"{"minimumCropScale": 0.5}"#.utf8))
        #expect(half.minimumCropScale == 0.5 && half.clipSpec.minimumScale == 0.5)
        #expect(try JSONDecoder().decode(ModelConfig.self, from: JSONEncoder().encode(half)) == half)
        #expect(throws: ConfigError.self) { try bench.overriding(withJSON: Data(#"{"minimumCropScale": 1.5}"#.utf8)) }
        #expect(throws: ConfigError.self) { try bench.overriding(withJSON: Data(#"{"minimumCropScale": 0}"#.utf8)) }
    }

    @Test func equalBoundsFixTheScale() throws {
        let bench = try ModelConfig.preset("bench")
        let fixed = try bench.overriding(withJSON: Data(#"{"minimumCropScale": 0.5, "maximumCropScale": 0.5}"#.utf8))
        #expect(fixed.clipSpec.minimumScale == 0.5 && fixed.clipSpec.maximumScale == 0.5)
        #expect(try JSONDecoder().decode(ModelConfig.self, from: JSONEncoder().encode(fixed)) == fixed)
        // Below METHOD's minimum when no minimum is set, or below the set minimum: refused, naming both.
        #expect(throws: ConfigError.self) { try bench.overriding(withJSON: Data(#"{"maximumCropScale": 0.5}"#.utf8)) }
        #expect(throws: ConfigError.self) { try bench.overriding(withJSON: Data(#"{"minimumCropScale": 0.6, "maximumCropScale": 0.5}"#.utf8)) }
        #expect(throws: ConfigError.self) { try bench.overriding(withJSON: Data(#"{"maximumCropScale": 1.2}"#.utf8)) }
    }
}
