import Testing
@testable import FluoroTraining

@Suite struct LearningRateScheduleTests {
    @Test func warmupThenCosine() {
        let s = LearningRateSchedule(globalBatch: 512, totalSteps: 1000)
        #expect(s.peak == 3e-4 && abs(s.floor - 2e-5) < 1e-12)
        #expect(s.warmupSteps == 50)
        #expect(s.rate(at: 0) == 0)
        #expect(abs(s.rate(at: 25) - 1.5e-4) < 1e-12)
        #expect(abs(s.rate(at: 50) - 3e-4) < 1e-12)
        #expect(abs(s.rate(at: 525) - (2e-5 + (3e-4 - 2e-5) * 0.5)) < 1e-12)
        #expect(abs(s.rate(at: 1000) - 2e-5) < 1e-12)
        // Monotone decay after warm-up.
        #expect((51..<1000).allSatisfy { s.rate(at: $0) <= s.rate(at: $0 - 1) })
    }
}
