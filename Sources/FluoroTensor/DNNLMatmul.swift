import CDNNL
import Foundation

/// oneDNN matrix products, row-major, fp32 accumulation and fp32 output. Each thread keeps its
/// own cache of matmul primitives per shape (creating one costs far more than running it), its
/// stream and its bf16 staging buffers; oneDNN runs each call on the calling thread (fluoro's
/// `Parallel` splits the work), so no OpenMP team ever competes with fluoro's threads.
public enum DNNLMatmul {
    /// The input type of a product.
    public enum InputType: Sendable { case bf16, f32 }

    struct Key: Hashable {
        var bf16: Bool, transA: Bool, transB: Bool
        var m: Int, n: Int, k: Int, lda: Int, ldb: Int, ldc: Int
        var alpha: UInt32, beta: UInt32
        var bias = false
    }

    final class Entry {
        let primitive: dnnl_primitive_t
        let descriptor: dnnl_primitive_desc_t
        let a: dnnl_memory_t, b: dnnl_memory_t, c: dnnl_memory_t, bias: dnnl_memory_t?
        init(primitive: dnnl_primitive_t, descriptor: dnnl_primitive_desc_t, a: dnnl_memory_t, b: dnnl_memory_t, c: dnnl_memory_t,
             bias: dnnl_memory_t?) {
            self.primitive = primitive; self.descriptor = descriptor; self.a = a; self.b = b; self.c = c; self.bias = bias
        }
        deinit {
            for memory in [a, b, c] + (bias.map { [$0] } ?? []) { dnnl_memory_destroy(memory) }
            dnnl_primitive_destroy(primitive)
            dnnl_primitive_desc_destroy(descriptor)
        }
    }

    /// One thread's stream, primitives and staging buffers.
    /// One thread's stream, primitives and staging buffers; freed when the thread exits.
    final class ThreadState {
        let stream: dnnl_stream_t
        var entries: [Key: Entry] = [:]
        /// Shapes oneDNN declined (not retried: each try costs a primitive creation).
        var declined: [Key: DNNLFailure] = [:]
        var bufferA = Staging(), bufferB = Staging()
        init(stream: dnnl_stream_t) { self.stream = stream }
        deinit {
            entries.removeAll()
            dnnl_stream_destroy(stream)
            bufferA.pointer.map { free($0) }
            bufferB.pointer.map { free($0) }
        }
    }

    /// A growable bf16 buffer (64-byte aligned).
    struct Staging {
        var pointer: UnsafeMutablePointer<UInt16>? = nil
        var capacity = 0
        mutating func reserve(_ count: Int) -> UnsafeMutablePointer<UInt16> {
            if count > capacity || pointer == nil {
                pointer.map { free($0) }
                let bytes = max(64, (count * 2 + 63) / 64 * 64)
                var raw: UnsafeMutableRawPointer?
                posix_memalign(&raw, 64, bytes)
                pointer = raw!.bindMemory(to: UInt16.self, capacity: bytes / 2)
                capacity = bytes / 2
            }
            return pointer!
        }
    }

    /// The CPU engine (nil when oneDNN cannot create one).
    nonisolated(unsafe) static let engine: dnnl_engine_t? = {
        var engine: dnnl_engine_t?
        guard dnnl_engine_create(&engine, dnnl_cpu, 0) == dnnl_success else { return nil }
        return engine
    }()

    static let stateKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { raw in  // at thread exit: release the thread's state
            if let raw { Unmanaged<ThreadState>.fromOpaque(raw).release() }
        }
        return key
    }()

    /// This thread's state, created on first use (oneDNN then runs one thread when called from here).
    static func state() -> ThreadState {
        if let raw = pthread_getspecific(stateKey) { return Unmanaged<ThreadState>.fromOpaque(raw).takeUnretainedValue() }
        omp_set_num_threads(1)
        var stream: dnnl_stream_t?
        guard let engine, dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue) == dnnl_success, let stream else {
            fatalError("oneDNN: cannot create a CPU stream")
        }
        let state = ThreadState(stream: stream)
        pthread_setspecific(stateKey, Unmanaged.passRetained(state).toOpaque())
        return state
    }

    static func entry(_ key: Key, in state: ThreadState) -> Result<Entry, DNNLFailure> {
        if let entry = state.entries[key] { return .success(entry) }
        if let failure = state.declined[key] { return .failure(failure) }
        let made = makeEntry(key)
        switch made {
        case .success(let entry): state.entries[key] = entry
        case .failure(let failure): state.declined[key] = failure
        }
        return made
    }

    /// A primitive and its memory objects for `key` (freed again if a later step fails).
    static func makeEntry(_ key: Key) -> Result<Entry, DNNLFailure> {
        guard let engine else { return .failure(DNNLFailure(what: "create a CPU engine", status: dnnl_runtime_error)) }
        var primitive: dnnl_primitive_t?, descriptor: dnnl_primitive_desc_t?
        let status = fluoro_dnnl_matmul_create(engine, key.bf16 ? dnnl_bf16 : dnnl_f32, Int64(key.m), Int64(key.n), Int64(key.k),
                                               key.transA ? 1 : 0, key.transB ? 1 : 0, Int64(key.lda), Int64(key.ldb), Int64(key.ldc),
                                               Float(bitPattern: key.alpha), Float(bitPattern: key.beta), key.bias ? 1 : 0,
                                               &primitive, &descriptor)
        guard status == dnnl_success, let primitive, let descriptor else {
            return .failure(DNNLFailure(what: "create a \(key.bf16 ? "bf16" : "f32") matmul \(key.m)x\(key.n)x\(key.k)", status: status))
        }
        func release() {
            dnnl_primitive_destroy(primitive); dnnl_primitive_desc_destroy(descriptor)
        }
        var a: dnnl_memory_t?, b: dnnl_memory_t?, c: dnnl_memory_t?, bias: dnnl_memory_t?
        let memories = key.bias ? fluoro_dnnl_matmul_memories(descriptor, engine, &a, &b, &c, &bias)
                                : fluoro_dnnl_matmul_memories(descriptor, engine, &a, &b, &c, nil)
        guard memories == dnnl_success, let a, let b, let c, !key.bias || bias != nil else {
            for memory in [a, b, c, bias].compactMap({ $0 }) { dnnl_memory_destroy(memory) }
            release()
            return .failure(DNNLFailure(what: "create matmul memories", status: memories))
        }
        return .success(Entry(primitive: primitive, descriptor: descriptor, a: a, b: b, c: c, bias: bias))
    }

    struct DNNLFailure: Error, CustomStringConvertible {
        var what: String
        var status: dnnl_status_t
        var description: String { "oneDNN could not \(what) (status \(status.rawValue))" }
    }

    /// C[M,N] = alpha · op(A) op(B) + beta · C with A and B already in `type` (bf16 bits as UInt16,
    /// or Float), strides as in `BLAS.sgemm`; C is fp32.
    public static func product(_ type: InputType, transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                               alpha: Float, a: UnsafeRawPointer, lda: Int, b: UnsafeRawPointer, ldb: Int,
                               beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        guard m > 0, n > 0 else { return }
        if k == 0 {  // oneDNN wants k >= 1; C = beta · C
            for r in 0..<m { for j in 0..<n { c[r * ldc + j] = beta == 0 ? 0 : beta * c[r * ldc + j] } }
            return
        }
        let state = state()
        let key = Key(bf16: type == .bf16, transA: transA, transB: transB, m: m, n: n, k: k, lda: lda, ldb: ldb, ldc: ldc,
                      alpha: alpha.bitPattern, beta: beta.bitPattern)
        let entry: Entry
        switch self.entry(key, in: state) {
        case .success(let e): entry = e
        case .failure(let failure): fatalError("\(failure)")
        }
        let status = fluoro_dnnl_matmul_execute(entry.primitive, state.stream, entry.a, entry.b, entry.c, nil, a, b, c, nil)
        if status != dnnl_success { fatalError("oneDNN matmul \(m)x\(n)x\(k) failed (status \(status.rawValue))") }
    }

    /// `BLAS.sgemm`'s fp32 contract on oneDNN (k ≥ 1), with `bias` [n] (alpha 1 only) added to
    /// every row in the kernel; false, with C untouched, when oneDNN cannot make a primitive for
    /// these shapes and strides (the caller then uses OpenBLAS).
    public static func f32(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                           alpha: Float, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                           beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, bias: UnsafePointer<Float>? = nil) -> Bool {
        precondition(bias == nil || alpha == 1, "DNNLMatmul.f32: a bias needs alpha 1")
        let state = state()
        let key = Key(bf16: false, transA: transA, transB: transB, m: m, n: n, k: k, lda: lda, ldb: ldb, ldc: ldc,
                      alpha: alpha.bitPattern, beta: beta.bitPattern, bias: bias != nil)
        guard case .success(let entry) = entry(key, in: state) else { return false }
        let status = fluoro_dnnl_matmul_execute(entry.primitive, state.stream, entry.a, entry.b, entry.c, entry.bias, a, b, c, bias)
        if status != dnnl_success { fatalError("oneDNN f32 matmul \(m)x\(n)x\(k) failed (status \(status.rawValue))") }
        return true
    }

    /// `BLAS.sgemm`'s contract with both inputs rounded to bf16 first (into this thread's staging
    /// buffers, made dense) and multiplied by oneDNN with fp32 accumulation.
    public static func bf16(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                            alpha: Float, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                            beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        bf16(parts: 1, transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
             beta: beta, c: c, ldc: ldc)
    }

    /// `bf16` split over `parts` threads (C's rows, or its columns when C is wide): the inputs are
    /// rounded once, by the calling thread, and every part multiplies its block of them.
    public static func bf16(parts: Int, transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                            alpha: Float, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                            beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        guard m > 0, n > 0 else { return }
        let state = state()
        let (aRows, aColumns) = transA ? (k, m) : (m, k)
        let (bRows, bColumns) = transB ? (n, k) : (k, n)
        let a16 = state.bufferA.reserve(aRows * aColumns)
        let b16 = state.bufferB.reserve(bRows * bColumns)
        BFloat16.convert(a, rows: aRows, columns: aColumns, ld: lda, into: a16)
        BFloat16.convert(b, rows: bRows, columns: bColumns, ld: ldb, into: b16)
        if m >= n {
            Parallel.forEach(parts) { part in
                let m0 = m * part / parts, m1 = m * (part + 1) / parts
                product(.bf16, transA: transA, transB: transB, m: m1 - m0, n: n, k: k, alpha: alpha,
                        a: a16 + (transA ? m0 : m0 * aColumns), lda: aColumns, b: b16, ldb: bColumns,
                        beta: beta, c: c + m0 * ldc, ldc: ldc)
            }
        } else {
            Parallel.forEach(parts) { part in
                let n0 = n * part / parts, n1 = n * (part + 1) / parts
                product(.bf16, transA: transA, transB: transB, m: m, n: n1 - n0, k: k, alpha: alpha,
                        a: a16, lda: aColumns, b: b16 + (transB ? n0 * bColumns : n0), ldb: bColumns,
                        beta: beta, c: c + n0, ldc: ldc)
            }
        }
    }

    /// nil when a small bf16 product runs and is right here; else why not.
    public static func probeBF16() -> String? {
        let state = state()
        let key = Key(bf16: true, transA: false, transB: true, m: 4, n: 4, k: 4, lda: 4, ldb: 4, ldc: 4,
                      alpha: Float(1).bitPattern, beta: Float(0).bitPattern)
        if case .failure(let failure) = entry(key, in: state) { return failure.description }
        let a: [Float] = (0..<16).map { Float($0 % 5) }, b: [Float] = (0..<16).map { Float($0 % 3) }
        var c = [Float](repeating: -1, count: 16)
        bf16(transA: false, transB: true, m: 4, n: 4, k: 4, alpha: 1, a: a, lda: 4, b: b, ldb: 4, beta: 0, c: &c, ldc: 4)
        for i in 0..<4 { for j in 0..<4 {
            var s: Float = 0
            for p in 0..<4 { s += a[i * 4 + p] * b[j * 4 + p] }
            if c[i * 4 + j] != s { return "a 4x4 bf16 product came out wrong (\(c[i * 4 + j]) instead of \(s))" }
        } }
        return nil
    }

    /// The oneDNN implementation a product of this shape uses ("brg:avx512_core_bf16", "gemm:jit", ...).
    public static func implementationName(_ type: InputType, m: Int, n: Int, k: Int, transB: Bool = true) -> String {
        let key = Key(bf16: type == .bf16, transA: false, transB: transB, m: m, n: n, k: k, lda: k, ldb: transB ? k : n, ldc: n,
                      alpha: Float(1).bitPattern, beta: Float(0).bitPattern)
        switch entry(key, in: state()) {
        case .success(let entry): return String(cString: fluoro_dnnl_impl_name(entry.descriptor))
        case .failure(let failure): return "unavailable (\(failure))"
        }
    }

    /// oneDNN's version ("2.6.3").
    public static var version: String {
        guard let v = dnnl_version() else { return "unknown" }
        return "\(v.pointee.major).\(v.pointee.minor).\(v.pointee.patch)"
    }

    /// The instruction set oneDNN dispatches to on this CPU.
    public static var effectiveISA: String {
        let isa = dnnl_get_effective_cpu_isa()
        switch isa {
        case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx"
        case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16"
        case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni"
        case dnnl_cpu_isa_avx512_core: return "avx512_core"
        case dnnl_cpu_isa_avx2: return "avx2"
        default: return "isa 0x" + String(isa.rawValue, radix: 16)
        }
    }

    /// Median GFLOP/s of n x n x n products (A·Bᵀ, fp32 in and out) on this thread: bf16 includes
    /// rounding the inputs, as in training.
    public static func measureGFLOPS(_ type: InputType, n: Int = 512, repeats: Int = 7) -> Double {
        var a = [Float](repeating: 0, count: n * n), b = a, c = a
        for i in 0..<(n * n) { a[i] = Float(i % 7) * 0.1; b[i] = Float(i % 5) * 0.1 }
        var seconds: [Double] = []
        for r in 0...repeats {
            let t0 = DispatchTime.now().uptimeNanoseconds
            a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in c.withUnsafeMutableBufferPointer { pc in
                switch type {
                case .bf16:
                    bf16(transA: false, transB: true, m: n, n: n, k: n, alpha: 1, a: pa.baseAddress!, lda: n,
                         b: pb.baseAddress!, ldb: n, beta: 0, c: pc.baseAddress!, ldc: n)
                case .f32:
                    product(.f32, transA: false, transB: true, m: n, n: n, k: n, alpha: 1, a: pa.baseAddress!, lda: n,
                            b: pb.baseAddress!, ldb: n, beta: 0, c: pc.baseAddress!, ldc: n)
                }
            } } }
            if r > 0 { seconds.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9) }
        }
        seconds.sort()
        return 2 * Double(n * n) * Double(n) / seconds[seconds.count / 2] / 1e9
    }
}
