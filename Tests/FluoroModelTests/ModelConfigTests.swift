import Foundation
import Testing
@testable import FluoroModel

@Suite struct ModelConfigTests {
    @Test func presetSizesFollowTheMethod() throws {
        let bench = try ModelConfig.preset("bench")
        #expect(bench.tokens == 8 * 64)
        #expect(bench.tubeHidden == 48)          // round(0.75 * 64)
        #expect(bench.frameHidden == 63)         // round(0.98 * 64)
        #expect(bench.visibleTokens == 6 * 16 + 2 * 1)
        let tiny = try ModelConfig.preset("tiny")
        #expect(tiny.tokens == 2 * 36 && tiny.tokenValues == 128)
        for (_, preset) in ModelConfig.presets { try preset.validate() }
    }

    @Test func jsonOverridesAnyFieldAndRejectsUnknownOnes() throws {
        let changed = try ModelConfig.tiny.overriding(withJSON: Data(#"{"depth": 3, "wVes": 0}"#.utf8))
        #expect(changed.depth == 3 && changed.wVes == 0 && changed.width == 32)
        #expect(throws: ConfigError.unknownField("detph", file: "c.json")) {
            try ModelConfig.tiny.overriding(withJSON: Data(#"{"detph": 3}"#.utf8), file: "c.json")
        }
        #expect(throws: ConfigError.self) { try ModelConfig.tiny.overriding(withJSON: Data(#"{"patch": 7}"#.utf8)) }
        #expect(throws: ConfigError.self) { try ModelConfig.preset("huge") }
    }

    /// METHOD §4: F is 25% of the slots; a config that changes frames (or tubelet) without setting F follows.
    @Test func frameMaskedSlotsFollowsTheSlotCount() throws {
        #expect(ModelConfig.presets.values.allSatisfy { $0.frameMaskedSlots == ModelConfig.defaultFrameMaskedSlots(slots: $0.slots) })
        let bench = ModelConfig.bench
        #expect(try bench.overriding(withJSON: Data(#"{"frames": 32}"#.utf8)).frameMaskedSlots == 4)
        #expect(try bench.overriding(withJSON: Data(#"{"frames": 8}"#.utf8)).frameMaskedSlots == 1)
        #expect(try bench.overriding(withJSON: Data(#"{"tubelet": 4}"#.utf8)).frameMaskedSlots == 1)
        #expect(try bench.overriding(withJSON: Data(#"{"frames": 32, "frameMaskedSlots": 3}"#.utf8)).frameMaskedSlots == 3)
        #expect(try bench.overriding(withJSON: Data(#"{"depth": 2}"#.utf8)).frameMaskedSlots == 2)
        #expect(try ModelConfig.tiny.overriding(withJSON: Data(#"{"frames": 16}"#.utf8)).frameMaskedSlots == 2)
    }
}
