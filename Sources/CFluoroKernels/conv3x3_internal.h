// The variants behind fluoro_kernels.h's dispatching entry points (same arguments, no isa).
#ifndef FLUORO_CONV3X3_INTERNAL_H
#define FLUORO_CONV3X3_INTERNAL_H

#include <stdlib.h>
#include <string.h>

#define FK_INLINE static inline __attribute__((always_inline))

/// Output channels of the next block of `remaining`: `widest` (8 or 4), else 4, 2 or 1. The
/// forward kernels and `fk_pack_weights` cut the output channels the same way.
FK_INLINE int fk_block_size(int remaining, int widest) {
    if (remaining >= widest) return widest;
    return remaining >= 4 ? 4 : remaining >= 2 ? 2 : 1;
}

/// The weight regrouped per block of output channels (see `fk_block_size`): the block starting at
/// o0 with co channels is [cin, 9, co] at o0 * cin * 9, so a block's nine taps of one input channel
/// are contiguous. w: [cout, cin, 3, 3]. Returns malloc'ed memory (free it); aborts when out of memory.
float *fk_pack_weights(const float *w, int cin, int cout, int widest);

#if defined(__x86_64__)
void fk_conv3x3_forward_avx512(float *out, const float *x, const float *w, const float *bias, int cin, int cout, int H, int W, int accumulate, int relu);
void fk_conv3x3_weight_gradient_avx512(float *dw, const float *dout, const float *xp, int cin, int cout, int H, int W);
void fk_conv3x3_forward_avx2(float *out, const float *x, const float *w, const float *bias, int cin, int cout, int H, int W, int accumulate, int relu);
void fk_conv3x3_weight_gradient_avx2(float *dw, const float *dout, const float *xp, int cin, int cout, int H, int W);
#endif

/// The forward kernels' zero-bordered rows: a ring [cin, 3, W+2] holding padded rows p-2, p-1
/// and p of every channel (padded row p = input row p-1, slot p % 3), so the border never costs a
/// pass over the image. `fk_new_ring` allocates it (zeros; free it); `fk_ring_fill` writes padded
/// row p (0 ... H+1) of every channel from x [cin, H, W].
FK_INLINE float *fk_new_ring(int cin, int W) {
    float *ring = calloc((size_t)cin * 3 * (W + 2), sizeof(float));
    if (!ring) abort();
    return ring;
}

FK_INLINE void fk_ring_fill(float *ring, const float *x, int cin, int H, int W, int p) {
    for (int c = 0; c < cin; c++) {
        float *row = ring + ((size_t)c * 3 + p % 3) * (W + 2);  // its first and last float stay 0
        if (p == 0 || p == H + 1) memset(row + 1, 0, sizeof(float) * W);
        else memcpy(row + 1, x + ((size_t)c * H + p - 1) * W, sizeof(float) * W);
    }
}

/// Rows of the weight gradient's bands: about 4096 pixels of dout per band, so a band of every
/// input channel stays in L2 while each output channel's rows stay in L1.
FK_INLINE int fk_band_rows(int H, int W) {
    int rows = 4096 / W;
    return rows < 1 ? 1 : rows > H ? H : rows;
}

#endif
