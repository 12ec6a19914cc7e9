import Foundation

/// The library Fluoro's fp32 matrix products (`BLAS.sgemm`) run on, fixed for the process.
public enum SgemmLibrary: String, Sendable, CaseIterable {
    /// oneDNN's f32 matmul primitive, created once per shape and thread and run on the calling
    /// thread: the default where oneDNN has a CPU engine. Measured here against OpenBLAS in
    /// alternating runs: the HiFT fine-tuning step 5% faster, the pretraining step 9%, attention's
    /// per-head products (192 x 192 x 64) ~20% (it does not pack both inputs on every call), the
    /// 1536-row linear products −2 to +14% (docs/BENCHMARKS.md, stop 22).
    case onednn
    /// OpenBLAS's `cblas_sgemm`: with `FLUORO_SGEMM=openblas`, where oneDNN has no CPU engine, and
    /// for any product oneDNN declines.
    case openblas

    /// Environment variable choosing the library (`onednn` or `openblas`).
    public static let variable = "FLUORO_SGEMM"

    /// The process's library: `FLUORO_SGEMM` if set to a known name, else oneDNN when it has a CPU engine.
    public static let current: SgemmLibrary = {
        if let name = ProcessInfo.processInfo.environment[variable], let chosen = SgemmLibrary(rawValue: name.lowercased()) {
            return chosen == .onednn && DNNLMatmul.engine == nil ? .openblas : chosen
        }
        return DNNLMatmul.engine == nil ? .openblas : .onednn
    }()
}
