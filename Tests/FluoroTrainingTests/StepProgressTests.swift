import FluoroSupport
import Foundation
import Testing

/// The training progress line: one line per report in a file or pipe, redrawn on a terminal,
/// with the rate smoothed by an exponential moving average.
struct StepProgressTests {
    /// Collects what a `StepProgress` writes.
    final class Sink: @unchecked Sendable {
        var text = ""
    }

    @Test func fileOrPipeGetsOneLinePerReportWithSmoothedRateAndETA() {
        let sink = Sink()
        let progress = StepProgress(total: 30, unit: "clips", smoothing: 0.5, isTerminal: false) { sink.text += $0 }
        progress.count(items: 40, seconds: 1)  // 40 clips/s
        progress.report(step: 10, itemsPerStep: 4, details: "loss 1.0")
        progress.count(items: 40, seconds: 4)  // 10 clips/s: smoothed 0.5 * 10 + 0.5 * 40 = 25
        progress.report(step: 20, itemsPerStep: 4, details: "loss 0.5")
        progress.finish()
        let lines = sink.text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines == ["step 10/30  loss 1.0  40.0 clips/s  ETA 2.0s", "step 20/30  loss 0.5  25.0 clips/s  ETA 1.6s", ""])
        #expect(!sink.text.contains("\r"))
        #expect(progress.smoothedRate == 25)
    }

    @Test func terminalRedrawsInPlaceAndEndsTheLine() {
        let sink = Sink()
        let progress = StepProgress(total: 2, unit: "clips", isTerminal: true) { sink.text += $0 }
        progress.count(items: 2, seconds: 1)
        progress.report(step: 1, itemsPerStep: 2, details: "x")
        progress.count(items: 2, seconds: 1)
        progress.report(step: 2, itemsPerStep: 2, details: "y")
        progress.finish()
        #expect(sink.text == "\r\u{1B}[Kstep 1/2  x  2.0 clips/s  ETA 1.0s\r\u{1B}[Kstep 2/2  y  2.0 clips/s  ETA 0.0s\n")
    }
}
