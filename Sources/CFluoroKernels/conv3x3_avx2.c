// The direct 3x3 convolution with AVX2 + FMA (8 floats per vector), compiled for these functions
// only (target attributes), chosen at run time by fk_best_isa. Row ends use masked loads and stores.
#if defined(__x86_64__)
#include <immintrin.h>
#include "conv3x3_internal.h"

#define AVX2 __attribute__((target("avx2,fma")))

enum { OUT_BLOCK = 4 };  // output channels per forward block: 4 x 2 accumulators (16 registers in all)

/// All-ones lanes for [x, x+8) inside a row of `width` floats.
FK_INLINE AVX2 __m256i row_mask(int x, int width) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(width - x), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/// 8 floats at p: all of them when `full` (a constant after inlining), else the lanes of m (0 elsewhere).
FK_INLINE AVX2 __m256 load(int full, const float *p, __m256i m) {
    return full ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, m);
}

FK_INLINE AVX2 void store(int full, float *p, __m256i m, __m256 v) {
    if (full) _mm256_storeu_ps(p, v); else _mm256_maskstore_ps(p, m, v);
}

/// out[o0+j, y, x..x+16) for j < co; `full` when all 16 pixels lie inside the row.
/// out: plane o0 of [cout, H, W]; wb: the block's packed weight [cin, 9, co]; bias: &bias[o0] or NULL.
FK_INLINE AVX2 void forward_block(int co, int full, float *out, const float *ring, const int slot[3], const float *wb,
                                  const float *bias, int cin, int H, int W, int y, int x, int accumulate, int relu) {
    const int Wp = W + 2, hw = H * W;
    const __m256i m0 = row_mask(x, W), m1 = row_mask(x + 8, W);
    __m256 a0[OUT_BLOCK], a1[OUT_BLOCK];
#pragma clang loop unroll(full)
    for (int j = 0; j < co; j++) {
        const float *o = out + (size_t)j * hw + y * W + x;
        a0[j] = a1[j] = bias ? _mm256_set1_ps(bias[j]) : _mm256_setzero_ps();
        if (accumulate) {
            a0[j] = _mm256_add_ps(a0[j], load(full, o, m0));
            a1[j] = _mm256_add_ps(a1[j], load(full, o + 8, m1));
        }
    }
    for (int c = 0; c < cin; c++) {
        const float *src = ring + (size_t)c * 3 * Wp + x, *wc = wb + (size_t)c * 9 * co;
#pragma clang loop unroll(full)
        for (int k = 0; k < 9; k++) {
            const float *row = src + slot[k / 3] + k % 3;
            const __m256 s0 = load(full, row, m0), s1 = load(full, row + 8, m1);
#pragma clang loop unroll(full)
            for (int j = 0; j < co; j++) {
                const __m256 wj = _mm256_broadcast_ss(wc + k * co + j);
                a0[j] = _mm256_fmadd_ps(wj, s0, a0[j]);
                a1[j] = _mm256_fmadd_ps(wj, s1, a1[j]);
            }
        }
    }
#pragma clang loop unroll(full)
    for (int j = 0; j < co; j++) {
        float *o = out + (size_t)j * hw + y * W + x;
        if (relu) { a0[j] = _mm256_max_ps(a0[j], _mm256_setzero_ps()); a1[j] = _mm256_max_ps(a1[j], _mm256_setzero_ps()); }
        store(full, o, m0, a0[j]);
        store(full, o + 8, m1, a1[j]);
    }
}

/// One block of output channels at (y, x), through the instance for its size and row end.
FK_INLINE AVX2 void forward_any(int co, int full, float *ob, const float *ring, const int slot[3], const float *wb,
                                const float *bb, int cin, int H, int W, int y, int x, int accumulate, int relu) {
#define FK_CASE(n) \
    if (full) forward_block(n, 1, ob, ring, slot, wb, bb, cin, H, W, y, x, accumulate, relu); \
    else forward_block(n, 0, ob, ring, slot, wb, bb, cin, H, W, y, x, accumulate, relu)
    switch (co) {
    case 4: FK_CASE(4); break;
    case 2: FK_CASE(2); break;
    default: FK_CASE(1); break;
    }
#undef FK_CASE
}

AVX2 void fk_conv3x3_forward_avx2(float *out, const float *x, const float *w, const float *bias,
                                  int cin, int cout, int H, int W, int accumulate, int relu) {
    float *packed = fk_pack_weights(w, cin, cout, OUT_BLOCK), *ring = fk_new_ring(cin, W);
    fk_ring_fill(ring, x, cin, H, W, 0);
    fk_ring_fill(ring, x, cin, H, W, 1);
    for (int y = 0; y < H; y++) {
        fk_ring_fill(ring, x, cin, H, W, y + 2);
        const int slot[3] = {(y % 3) * (W + 2), ((y + 1) % 3) * (W + 2), ((y + 2) % 3) * (W + 2)};
        for (int x0 = 0; x0 < W; x0 += 16) {
            for (int o0 = 0, co; o0 < cout; o0 += co) {
                co = fk_block_size(cout - o0, OUT_BLOCK);
                forward_any(co, x0 + 16 <= W, out + (size_t)o0 * H * W, ring, slot, packed + (size_t)o0 * cin * 9,
                            bias ? bias + o0 : NULL, cin, H, W, y, x0, accumulate, relu);
            }
        }
    }
    free(ring);
    free(packed);
}

/// dw[o, c, :, :] += the nine products of dout[o] and input plane c over rows [y0, y1).
/// dw: &dw[o, c, 0, 0]; dout: plane o of [cout, H, W]; xc: plane c of the padded input.
FK_INLINE AVX2 void gradient_block(float *dw, const float *dout, const float *xc, int W, int y0, int y1) {
    const int Wp = W + 2;
    __m256 a[9];
#pragma clang loop unroll(full)
    for (int k = 0; k < 9; k++) a[k] = _mm256_setzero_ps();
    for (int y = y0; y < y1; y++) {
        const float *r = xc + y * Wp, *d = dout + y * W;
        int x = 0;
        for (; x + 8 <= W; x += 8) {
            const __m256 dv = _mm256_loadu_ps(d + x);
#pragma clang loop unroll(full)
            for (int k = 0; k < 9; k++) a[k] = _mm256_fmadd_ps(dv, _mm256_loadu_ps(r + (k / 3) * Wp + k % 3 + x), a[k]);
        }
        if (x < W) {
            const __m256i m = row_mask(x, W);
            const __m256 dv = _mm256_maskload_ps(d + x, m);
#pragma clang loop unroll(full)
            for (int k = 0; k < 9; k++) a[k] = _mm256_fmadd_ps(dv, _mm256_maskload_ps(r + (k / 3) * Wp + k % 3 + x, m), a[k]);
        }
    }
#pragma clang loop unroll(full)
    for (int k = 0; k < 9; k++) {
        const __m128 h = _mm_add_ps(_mm256_castps256_ps128(a[k]), _mm256_extractf128_ps(a[k], 1));
        const __m128 q = _mm_add_ps(h, _mm_movehl_ps(h, h));
        dw[k] += _mm_cvtss_f32(_mm_add_ss(q, _mm_shuffle_ps(q, q, 1)));
    }
}

AVX2 void fk_conv3x3_weight_gradient_avx2(float *dw, const float *dout, const float *xp, int cin, int cout, int H, int W) {
    const int plane = (H + 2) * (W + 2), band = fk_band_rows(H, W);
    for (int y0 = 0; y0 < H; y0 += band) {
        const int y1 = y0 + band < H ? y0 + band : H;
        for (int o = 0; o < cout; o++)
            for (int c = 0; c < cin; c++)
                gradient_block(dw + ((size_t)o * cin + c) * 9, dout + (size_t)o * H * W, xp + (size_t)c * plane, W, y0, y1);
    }
}
#endif
