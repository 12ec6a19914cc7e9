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

extension MatrixPrecision: ExpressibleByArgument {}

/// `--precision` and its emulation escape hatch, for the commands that train or time training.
struct PrecisionOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Matrix products: fp32 (oneDNN, or OpenBLAS with FLUORO_SGEMM=openblas; the default) or bf16 (inputs of linear layers, attention and convolution products rounded to bfloat16 and multiplied by oneDNN with fp32 accumulation; parameters, optimizer, softmax, LayerNorm, GELU and losses stay fp32). Needs AVX512_BF16 or AMX (see fluoro env). Saved in the run; on resume, the run's own.", valueName: "fp32|bf16"))
    var precision: MatrixPrecision?

    @Flag(name: .customLong("allow-bf16-emulation"), help: "Run --precision bf16 on a CPU without AVX512_BF16/AMX: oneDNN then emulates bf16 products, usually slower than fp32 (for checking numerics only).")
    var allowBF16Emulation = false

    /// The precision asked for (fp32 when not given).
    var resolved: MatrixPrecision { precision ?? .fp32 }

    /// Checks the precision can run here and makes it the process's.
    func apply() throws {
        try MatrixPrecision.enable(resolved, allowEmulation: allowBF16Emulation)
    }
}
