// The variants behind fluoro_kernels.h's dispatching entry points (same arguments, no isa).
#ifndef FLUORO_CONV3X3_INTERNAL_H
#define FLUORO_CONV3X3_INTERNAL_H

#include <stdlib.h>

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
void fk_conv3x3_forward_avx512(float *out, const float *xp, const float *w, const float *bias, int cin, int cout, int H, int W, int accumulate, int relu);
void fk_conv3x3_weight_gradient_avx512(float *dw, const float *dout, const float *xp, int cin, int cout, int H, int W);
void fk_conv3x3_forward_avx2(float *out, const float *xp, const float *w, const float *bias, int cin, int cout, int H, int W, int accumulate, int relu);
void fk_conv3x3_weight_gradient_avx2(float *dw, const float *dout, const float *xp, int cin, int cout, int H, int W);
#endif

/// Rows of the weight gradient's bands: about 4096 pixels of dout per band, so a band of every
/// input channel stays in L2 while each output channel's rows stay in L1.
FK_INLINE int fk_band_rows(int H, int W) {
    int rows = 4096 / W;
    return rows < 1 ? 1 : rows > H ? H : rows;
}

#endif
