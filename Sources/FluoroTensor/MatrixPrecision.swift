import FluoroSupport
import Foundation

/// The number format of the matrix products' inputs. `fp32` multiplies them as they are (oneDNN's
/// f32 matmul or OpenBLAS, `SgemmLibrary`); `bf16` rounds both inputs of every product (linear layers, attention
/// products, convolutions' im2col products) to bfloat16 and multiplies them with oneDNN,
/// accumulating and writing fp32. Everything else — parameters, optimizer moments, gradient
/// accumulation, softmax, LayerNorm, GELU, losses — stays fp32 in both modes.
public enum MatrixPrecision: String, Codable, Sendable, CaseIterable, CustomStringConvertible {
    case fp32, bf16

    public var description: String { rawValue }

    /// The precision matrix products on this thread use: the override of `with` (which
    /// `Parallel`'s loops carry to their worker threads), else the process's (set at start-up
    /// with `enable`). Read by `BLAS.sgemm`, the one GEMM entry point.
    public static var current: MatrixPrecision {
        if let raw = pthread_getspecific(overrideKey) { return Int(bitPattern: raw) == 2 ? .bf16 : .fp32 }
        return configured
    }

    /// The process-wide precision (what `current` reads without an override).
    public nonisolated(unsafe) static var configured: MatrixPrecision = .fp32

    static let overrideKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// This thread's override as an opaque value for `Parallel` to carry to worker threads.
    @usableFromInline static var threadOverride: UnsafeMutableRawPointer? { pthread_getspecific(overrideKey) }

    /// Runs `body` with this thread's override set to `value` (from `threadOverride`).
    @usableFromInline static func withOverride<T>(_ value: UnsafeMutableRawPointer?, _ body: () throws -> T) rethrows -> T {
        let previous = pthread_getspecific(overrideKey)
        if previous == value { return try body() }
        pthread_setspecific(overrideKey, value)
        defer { pthread_setspecific(overrideKey, previous) }
        return try body()
    }

    /// Why a precision cannot be used here.
    public enum Unavailable: Error, CustomStringConvertible {
        case noBF16Instructions(cpu: String)
        case oneDNN(String)

        public var description: String {
            switch self {
            case .noBF16Instructions(let cpu):
                return "--precision bf16: this CPU (\(cpu)) has neither AVX512_BF16 nor AMX, so oneDNN would emulate bf16 products, usually slower than fp32. Use --precision fp32, or add --allow-bf16-emulation to run it anyway (e.g. to check numerics)"
            case .oneDNN(let reason): return "--precision bf16: oneDNN cannot multiply bf16 matrices here: \(reason)"
            }
        }
    }

    /// Whether the CPU multiplies bf16 natively (AVX512_BF16 or AMX-BF16).
    public static var hardwareHasBF16: Bool {
        let cpu = CPUFeatures.current
        return cpu.hasAVX512BF16 || cpu.hasAMXBF16
    }

    /// Checks that `precision` can run here and makes it `current`. bf16 needs AVX512_BF16 or AMX
    /// (unless `allowEmulation`) and a working oneDNN bf16 matmul.
    public static func enable(_ precision: MatrixPrecision, allowEmulation: Bool = false) throws {
        try checkAvailable(precision, allowEmulation: allowEmulation)
        configured = precision
    }

    /// Throws `Unavailable` when `precision` cannot run here (bf16 without AVX512_BF16/AMX and
    /// without `allowEmulation`, or oneDNN failing a small bf16 product).
    public static func checkAvailable(_ precision: MatrixPrecision, allowEmulation: Bool = false) throws {
        guard precision == .bf16 else { return }
        if !hardwareHasBF16 && !allowEmulation { throw Unavailable.noBF16Instructions(cpu: CPUFeatures.current.modelName) }
        if let failure = DNNLMatmul.probeBF16() { throw Unavailable.oneDNN(failure) }
    }

    /// Runs `body` with `precision` for this thread's matrix products and those of the `Parallel`
    /// loops it starts (other threads keep theirs: tests running side by side do not interfere).
    public static func with<T>(_ precision: MatrixPrecision, _ body: () throws -> T) rethrows -> T {
        try withOverride(UnsafeMutableRawPointer(bitPattern: precision == .bf16 ? 2 : 1), body)
    }
}
