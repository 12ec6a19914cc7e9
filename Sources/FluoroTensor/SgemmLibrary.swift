import FluoroSupport
import Foundation

/// The library Fluoro's fp32 matrix products (`BLAS.sgemm`) run on, fixed for the process.
public enum SgemmLibrary: String, Sendable, CaseIterable {
    /// oneDNN's f32 matmul primitive, created once per shape and thread and run on the calling
    /// thread: the default on AVX-512 CPUs where oneDNN has a CPU engine (the only ones it was
    /// measured on). Against OpenBLAS in alternating runs there: the HiFT fine-tuning step 5%
    /// faster, the pretraining step about 5%, attention's per-head products (192 x 192 x 64) ~20%
    /// (it does not pack both inputs on every call); docs/BENCHMARKS.md, stop 22.
    case onednn
    /// OpenBLAS's `cblas_sgemm`: with `FLUORO_SGEMM=openblas`, on CPUs without AVX-512, where
    /// oneDNN has no CPU engine, and for any product oneDNN declines.
    case openblas

    /// Environment variable choosing the library (`onednn` or `openblas`).
    public static let variable = "FLUORO_SGEMM"

    /// The process's library: `FLUORO_SGEMM` if set (onednn only where oneDNN has a CPU engine;
    /// an unknown name is reported and ignored), else oneDNN on AVX-512 CPUs, OpenBLAS elsewhere.
    public static let current: SgemmLibrary = {
        let usable = DNNLMatmul.engine != nil
        if let name = ProcessInfo.processInfo.environment[variable], !name.isEmpty {
            if let chosen = SgemmLibrary(rawValue: name.lowercased()) { return chosen == .onednn && !usable ? .openblas : chosen }
            Log.info("warning: \(variable)=\(name) is not onednn or openblas; using the default")
        }
        return usable && Conv2D.DirectISA.best == .avx512 ? .onednn : .openblas
    }()
}
