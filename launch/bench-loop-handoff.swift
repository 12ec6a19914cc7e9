// What does handing a small loop to a second thread cost? (docs/BENCHMARKS.md, stop 22: the reason
// for Parallel's worker pool.) Times two halves of a loop run serially and through GCD's
// concurrentPerform. The worker pool's spin (worker_pool.c, 8192 pause instructions) is timed by
// launch/bench-pause.c.
//   swiftc -O launch/bench-loop-handoff.swift -o /tmp/loop-handoff && /tmp/loop-handoff
import Dispatch
import Foundation

let sink = UnsafeMutablePointer<Double>.allocate(capacity: 64)
func work(_ i: Int, _ n: Int) { var s = 0.0; for k in 0..<n { s += Double(k &* i) }; sink[i * 8] = s }
func microseconds(_ t: Date, _ count: Int) -> Double { Date().timeIntervalSince(t) / Double(count) * 1e6 }
for n in [2000, 20000] {
    var t = Date()
    for _ in 0..<5000 { work(0, n); work(1, n) }
    let serial = microseconds(t, 5000)
    t = Date()
    for _ in 0..<5000 { DispatchQueue.concurrentPerform(iterations: 2) { i in work(i, n) } }
    let handed = microseconds(t, 5000)
    print(String(format: "two halves of %d: serial %.1f us, concurrentPerform %.1f us", n, serial, handed))
}
