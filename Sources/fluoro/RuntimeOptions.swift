import ArgumentParser
import FluoroSupport
import FluoroTensor

/// Options every compute-heavy subcommand shares.
struct RuntimeOptions: ParsableArguments {
    @Option(help: "Compute threads for this rank (default: the cores available to it; with several ranks on one machine, its share).")
    var threads: Int?

    /// The thread count in force.
    var resolvedThreads: Int { threads ?? CoreBudget.defaultThreads }

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
    }

    /// Applies the thread count to OpenBLAS.
    func apply() {
        BLASRuntime.setThreads(resolvedThreads)
    }
}
