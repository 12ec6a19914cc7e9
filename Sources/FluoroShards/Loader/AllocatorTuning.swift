#if canImport(Glibc)
import Glibc
#endif

/// Process-wide malloc settings that keep the loader's large buffers (decoded frames, batches of
/// several MB) in the heap instead of fresh `mmap`s.
///
/// With glibc defaults, every multi-megabyte allocation is a new mapping: each batch then costs
/// page faults and, when the mapping is freed while another thread of the process runs on another
/// core, TLB shoot-downs. Measured at the bench spec on 2 cores (release, median of 7): in
/// memory, one worker 1021 clips/s and two workers 914 (slower!); with these settings 1064 and
/// 2126. From shards, 456 and 909 clips/s with these settings.
/// Call once, early, in a long-running training process (memory freed is kept for reuse rather
/// than returned to the system). Does nothing on platforms without glibc.
public enum AllocatorTuning {
    /// Raises glibc's mmap threshold to its 32 MiB maximum and keeps freed heap memory
    /// (trim threshold 1 GiB, top pad 64 MiB). Returns false when not supported here.
    @discardableResult
    public static func keepLargeBuffersInHeap() -> Bool {
        #if canImport(Glibc)
        // malloc.h is not part of the Glibc module: look mallopt up at run time.
        // Parameters from malloc.h: M_TRIM_THRESHOLD -1, M_TOP_PAD -2, M_MMAP_THRESHOLD -3.
        typealias MallOpt = @convention(c) (Int32, Int32) -> Int32
        guard let process = dlopen(nil, RTLD_NOW), let symbol = dlsym(process, "mallopt") else { return false }
        let mallopt = unsafeBitCast(symbol, to: MallOpt.self)
        let threshold = mallopt(-3, 32 << 20)
        let trim = mallopt(-1, 1 << 30)
        let pad = mallopt(-2, 64 << 20)
        return threshold == 1 && trim == 1 && pad == 1
        #else
        return false
        #endif
    }
}
