// Flush-to-zero and denormals-are-zero for the calling thread. Subnormal floats (below 1.2e-38)
// take a slow microcode path on x86; from a longer-pretrained encoder they made a fine-tuning step
// 2.6x slower (docs/BENCHMARKS.md, "Subnormal floats"). Their values do not matter to training.
#include "fluoro_kernels.h"
#if defined(__x86_64__)
#include <xmmintrin.h>
#endif

void fk_flush_denormals(void) {
#if defined(__x86_64__)
    _mm_setcsr(_mm_getcsr() | 0x8040);  // FTZ (bit 15) | DAZ (bit 6)
#endif
}

int fk_denormals_flushed(void) {
#if defined(__x86_64__)
    return (_mm_getcsr() & 0x8040) == 0x8040;
#else
    return 0;
#endif
}
