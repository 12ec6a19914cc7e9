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
}
