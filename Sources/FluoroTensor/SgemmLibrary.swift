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

    /// What to tell a user resuming a run whose products ran on `saved` (a `rawValue`; nil for runs
    /// made before the library was recorded): nil when it is this process's library.
    public static func resumeWarning(saved: String?) -> String? {
        guard let saved, saved != current.rawValue else { return nil }
        return "warning: this run's fp32 products ran on \(saved) and now run on \(current.rawValue): it continues, but its sums "
            + "differ in the last bits from an uninterrupted run; set \(variable)=\(saved) to continue it exactly"
    }
}
