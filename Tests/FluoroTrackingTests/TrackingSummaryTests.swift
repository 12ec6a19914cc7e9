import FluoroShards
import Foundation
import Testing
@testable import FluoroTracking

/// METHOD §11's statistics on hand-made tracks whose errors are known exactly.
@Suite struct TrackingSummaryTests {
    /// A tip record at `frame` whose estimate is `error` px right of the truth (100, 50).
    static func record(_ run: String, _ frame: Int, error: Float, spacing: [Double]? = [0.5, 0.5],
                       occluded: Bool = false, init initialisation: Initialisation = .manual,
                       side: Int = 256) -> TrackingRecord {
        TrackingRecord(run: run, frame: frame, kind: .tip, landmark: 0, estimate: Point2(x: 100 + error, y: 50),
                       truth: Point2(x: 100, y: 50), spacingMm: spacing, occluded: occluded, lost: false,
                       initialisation: initialisation, frameSide: side)
    }

    /// Run "a": frame 0 (excluded, error 99) then errors 1, 2, 3, 8 px at 0.5 mm/px.
    static let runA = [record("a", 0, error: 99)] + zip(1..., [Float(1), 2, 3, 8]).map { record("a", $0, error: $1) }

    @Test func statisticsExcludeFrameZero() throws {
        let g = try #require(TrackingSummary(records: Self.runA).group(.tip))
        #expect(g.frames == 4 && g.runs == 1)
        #expect(abs(g.px.mean - 3.5) < 1e-9)
        #expect(abs(g.px.median - 2.5) < 1e-9)
        #expect(abs(g.px.std - (29.0 / 4).squareRoot()) < 1e-9)
        #expect(g.px.max == 8)
        let mm = try #require(g.mm)
        #expect(abs(mm.mean - 1.75) < 1e-9 && mm.max == 4)
        // 0.5, 1, 1.5 mm pass; 4 mm > 3 mm fails.
        #expect(g.failureRate == 0.25)
        #expect(g.failureCriterion == "3 mm")
    }

    @Test func oddCountMedianIsTheMiddleValue() throws {
        let stats = try #require(ErrorStatistics([5, 1, 3]))
        #expect(stats.median == 3 && stats.mean == 3 && stats.max == 5)
        #expect(ErrorStatistics([]) == nil)
    }

    @Test func millimetresUseRowAndColumnSpacing() {
        // dx = 3 px at 1 mm/column, dy = 4 px at 2 mm/row.
        let r = TrackingRecord(run: "r", frame: 1, kind: .marker, landmark: 1, estimate: Point2(x: 13, y: 24),
                               truth: Point2(x: 10, y: 20), spacingMm: [2, 1], occluded: false, lost: false,
                               initialisation: .manual, frameSide: 64)
        #expect(abs(r.errorPx - 5) < 1e-6)
        #expect(abs(r.errorMm! - (9.0 + 64).squareRoot()) < 1e-6)
        #expect(Self.record("r", 1, error: 2, spacing: nil).errorMm == nil)
    }

    @Test func failureThresholdWithoutSpacingIsTenPixelsAt512() {
        #expect(FailureCriterion.thresholdPx(frameSide: 512) == 10)
        #expect(FailureCriterion.thresholdPx(frameSide: 256) == 5)
        #expect(!Self.record("r", 1, error: 10, spacing: nil, side: 512).failed)
        #expect(Self.record("r", 1, error: 10.5, spacing: nil, side: 512).failed)
        #expect(!Self.record("r", 1, error: 4.9, spacing: nil, side: 256).failed)
        #expect(Self.record("r", 1, error: 5.1, spacing: nil, side: 256).failed)
        // With spacing the mm rule decides: 10.5 px at 0.25 mm/px is 2.6 mm, a pass.
        #expect(!Self.record("r", 1, error: 10.5, spacing: [0.25, 0.25], side: 512).failed)
    }

    @Test func runsSplitByAnyOccludedFrame() throws {
        // Run "b": no spacing, 256-px frames (threshold 5 px); only frame 2 is occluded.
        let runB = [Self.record("b", 0, error: 0, spacing: nil), Self.record("b", 1, error: 10, spacing: nil),
                    Self.record("b", 2, error: 4, spacing: nil, occluded: true)]
        let summary = TrackingSummary(records: Self.runA + runB)
        let all = try #require(summary.group(.tip, .manual, .all))
        let occluded = try #require(summary.group(.tip, .manual, .occluded))
        let clear = try #require(summary.group(.tip, .manual, .clear))
        #expect(all.frames == 6 && all.runs == 2 && all.failureCriterion == "mixed")
        #expect(all.mm?.count == 4)
        #expect(occluded.runs == 1 && occluded.frames == 2)
        #expect(occluded.px.mean == 7 && occluded.failureRate == 0.5)
        #expect(occluded.mm == nil && occluded.failureCriterion == "10 px at 512 px")
        #expect(clear.frames == 4 && clear.px.mean == 3.5)
        #expect(summary.group(.marker) == nil)
    }

    @Test func manualAndAutomaticInitialisationAreApart() throws {
        let auto = [Self.record("c", 0, error: 0, init: .auto), Self.record("c", 1, error: 20, init: .auto)]
        let summary = TrackingSummary(records: Self.runA + auto)
        #expect(summary.group(.tip, .manual)?.px.max == 8)
        #expect(summary.group(.tip, .auto)?.px.mean == 20)
        #expect(summary.group(.tip, .auto)?.failureRate == 1)
        let decoded = try JSONDecoder().decode(TrackingSummary.self, from: JSONEncoder().encode(summary))
        #expect(decoded == summary)
    }
}
