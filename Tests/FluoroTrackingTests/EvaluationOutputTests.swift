import FluoroShards
import Foundation
import Testing
@testable import FluoroTracking
import FluoroPlot

/// The table, CSV and figures of an evaluation made from hand-made records.
@Suite struct EvaluationOutputTests {
    /// A method whose tip errors are `errors` px on frames 1..., in one run "r".
    static func evaluation(_ method: String, errors: [Float]) -> TrackingEvaluation {
        let records = ([0] + errors).enumerated().map { t, e in
            TrackingRecord(run: "r", frame: t, kind: .tip, landmark: 0, estimate: Point2(x: 20 + e, y: 20),
                           truth: Point2(x: 20, y: 20), spacingMm: nil, occluded: false, lost: false,
                           initialisation: .manual, frameSide: 64)
        }
        return TrackingEvaluation(method: method, task: .tip, summary: TrackingSummary(records: records), fps: 100,
                                  trackedFrames: errors.count, trackSeconds: 0.1, threads: 1, records: records)
    }

    @Test func tableAndCSVHoldEveryMethod() throws {
        let evaluations = [Self.evaluation("ncc", errors: [1, 2]), Self.evaluation("still", errors: [4, 8])]
        let table = EvaluationReport.table(evaluations)
        #expect(table.contains("ncc") && table.contains("still") && table.contains("6.00"))
        let csv = EvaluationReport.perFrameCSV(evaluations).split(separator: "\n")
        #expect(csv.first.map(String.init) == EvaluationReport.csvHeader)
        #expect(csv.count == 1 + 2 * 3)
        #expect(csv[3] == "r,2,tip,22.0,20.0,20.0,20.0,2.0000,,0,0,ncc,manual")
        let json = try JSONSerialization.jsonObject(with: EvaluationReport.json(evaluations)) as? [[String: Any]]
        #expect(json?.map { $0["method"] as? String } == ["ncc", "still"])
    }

    @Test func errorCDFDrawsOneCurvePerMethod() throws {
        let image = EvaluationPlots.errorCDF([Self.evaluation("ncc", errors: [1, 2, 3]),
                                              Self.evaluation("still", errors: [5, 9])])
        #expect(image.width == 640 && image.height == 420)
        let colours = (0 ..< image.height).flatMap { y in (0 ..< image.width).map { image[$0, y] } }
        #expect(colours.filter { $0 == EvaluationPlots.palette[0] }.count > 100)
        #expect(colours.filter { $0 == EvaluationPlots.palette[1] }.count > 100)
        // ncc reaches 1 at x = 3 px: its curve passes the top edge there.
        var chart = LineChart(title: "", xLabel: "", yLabel: "")
        chart.xRange = 0 ... 9; chart.yRange = 0 ... 1
        let top = chart.pixel(x: 3, y: 1)
        #expect((-1 ... 1).contains { image[top.x + $0, top.y + 1] == EvaluationPlots.palette[0] })

        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fluoro-cdf-\(UUID().uuidString).png")
        try image.write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let png = try Data(contentsOf: url)
        let size = png[16 ..< 24].map { Int($0) }
        #expect(size == [0, 0, 2, 128, 0, 0, 1, 164], "IHDR width 640, height 420")
    }

    @Test func worstRunsComeFirst() {
        var e = Self.evaluation("ncc", errors: [1, 1])
        e.records += [2, 3].map { t in
            TrackingRecord(run: "bad", frame: t, kind: .tip, landmark: 0, estimate: Point2(x: 30, y: 20),
                           truth: Point2(x: 20, y: 20), spacingMm: nil, occluded: false, lost: false,
                           initialisation: .manual, frameSide: 64)
        }
        #expect(EvaluationPlots.worstRuns(e, count: 3) == ["bad", "r"])
    }
}
