import Testing
@testable import FluoroSim

@Suite struct SimulatorConfigTests {
    @Test func spacingScalesWithSize() {
        #expect(SimulatorConfig(size: 512).pixelSpacingMm * 2 == SimulatorConfig(size: 256).pixelSpacingMm)
    }
}
