// How long is the worker pool's spin (CFluoroKernels worker_pool.c: FK_SPIN_ROUNDS = 8192 pause
// instructions, FK_WAIT_SPINS = 4096)? The pause instruction's latency differs by CPU generation.
//   gcc -O2 launch/bench-pause.c -o /tmp/bench-pause && /tmp/bench-pause
#include <immintrin.h>
#include <stdio.h>
#include <time.h>
int main(void) {
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int r = 0; r < 100; r++) for (int i = 0; i < 8192; i++) _mm_pause();
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("8192 pause instructions: %.0f us\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / 100 / 1e3);
    return 0;
}
