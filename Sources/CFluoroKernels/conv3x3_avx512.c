// The direct 3x3 convolution with AVX-512F + FMA (16 floats per vector), compiled for these
// functions only (target attributes), chosen at run time by fk_best_isa.
#if defined(__x86_64__)
#include <immintrin.h>
#include "conv3x3_internal.h"

#define AVX512 __attribute__((target("avx512f,fma")))

enum { OUT_BLOCK = 8 };  // output channels per forward block: 8 x 2 accumulators

/// The lanes of [x, x+16) inside a row of `width` floats.
FK_INLINE AVX512 __mmask16 row_mask(int x, int width) {
    int n = width - x;
    return n >= 16 ? (__mmask16)0xFFFF : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1);
}

/// out[o0+j, y, x..x+32) for j < co. out: plane o0 of [cout, H, W]; wb: the block's packed weight
/// [cin, 9, co]; bias: &bias[o0] or NULL.
FK_INLINE AVX512 void forward_block(int co, float *out, const float *ring, const int slot[3], const float *wb,
                                    const float *bias, int cin, int H, int W, int y, int x, int accumulate, int relu) {
    const int Wp = W + 2, hw = H * W;
    const __mmask16 m0 = row_mask(x, W), m1 = row_mask(x + 16, W);
    __m512 a0[OUT_BLOCK], a1[OUT_BLOCK];
#pragma clang loop unroll(full)
    for (int j = 0; j < co; j++) {
        const float *o = out + (size_t)j * hw + y * W + x;
        a0[j] = a1[j] = bias ? _mm512_set1_ps(bias[j]) : _mm512_setzero_ps();
        if (accumulate) {
            a0[j] = _mm512_add_ps(a0[j], _mm512_maskz_loadu_ps(m0, o));
            a1[j] = _mm512_add_ps(a1[j], _mm512_maskz_loadu_ps(m1, o + 16));
        }
    }
    for (int c = 0; c < cin; c++) {
        const float *src = ring + (size_t)c * 3 * Wp + x, *wc = wb + (size_t)c * 9 * co;
#pragma clang loop unroll(full)
        for (int k = 0; k < 9; k++) {
            const float *row = src + slot[k / 3] + k % 3;
            const __m512 s0 = _mm512_maskz_loadu_ps(m0, row), s1 = _mm512_maskz_loadu_ps(m1, row + 16);
#pragma clang loop unroll(full)
            for (int j = 0; j < co; j++) {
                const __m512 wj = _mm512_set1_ps(wc[k * co + j]);
                a0[j] = _mm512_fmadd_ps(wj, s0, a0[j]);
                a1[j] = _mm512_fmadd_ps(wj, s1, a1[j]);
            }
        }
    }
#pragma clang loop unroll(full)
    for (int j = 0; j < co; j++) {
        float *o = out + (size_t)j * hw + y * W + x;
        if (relu) { a0[j] = _mm512_max_ps(a0[j], _mm512_setzero_ps()); a1[j] = _mm512_max_ps(a1[j], _mm512_setzero_ps()); }
        _mm512_mask_storeu_ps(o, m0, a0[j]);
        _mm512_mask_storeu_ps(o + 16, m1, a1[j]);
    }
}

AVX512 void fk_conv3x3_forward_avx512(float *out, const float *x, const float *w, const float *bias,
                                      int cin, int cout, int H, int W, int accumulate, int relu) {
    float *packed = fk_pack_weights(w, cin, cout, OUT_BLOCK), *ring = fk_new_ring(cin, W);
    fk_ring_fill(ring, x, cin, H, W, 0);
    fk_ring_fill(ring, x, cin, H, W, 1);
    // Row by row, 32 pixels at a time, every block of output channels: the 3 input rows of all
    // channels under those pixels stay in L1 while the blocks use them.
    for (int y = 0; y < H; y++) {
        fk_ring_fill(ring, x, cin, H, W, y + 2);
        const int slot[3] = {(y % 3) * (W + 2), ((y + 1) % 3) * (W + 2), ((y + 2) % 3) * (W + 2)};
        for (int x0 = 0; x0 < W; x0 += 32) {
            for (int o0 = 0, co; o0 < cout; o0 += co) {
                co = fk_block_size(cout - o0, OUT_BLOCK);
                float *ob = out + (size_t)o0 * H * W;
                const float *wb = packed + (size_t)o0 * cin * 9, *bb = bias ? bias + o0 : NULL;
                switch (co) {
                case 8: forward_block(8, ob, ring, slot, wb, bb, cin, H, W, y, x0, accumulate, relu); break;
                case 4: forward_block(4, ob, ring, slot, wb, bb, cin, H, W, y, x0, accumulate, relu); break;
                case 2: forward_block(2, ob, ring, slot, wb, bb, cin, H, W, y, x0, accumulate, relu); break;
                default: forward_block(1, ob, ring, slot, wb, bb, cin, H, W, y, x0, accumulate, relu); break;
                }
            }
        }
    }
    free(ring);
    free(packed);
}

/// dw[o0+j, c, :, :] += the nine products of dout[o0+j] and input plane c over rows [y0, y1), j < co (1 or 2).
/// dw: &dw[o0, c, 0, 0] of [cout, cin, 3, 3]; dout: plane o0 of [cout, H, W]; xc: plane c of the padded input.
FK_INLINE AVX512 void gradient_block(int co, float *dw, const float *dout, const float *xc,
                                     int cin, int H, int W, int y0, int y1) {
    const int Wp = W + 2, hw = H * W;
    __m512 a[2][9];
#pragma clang loop unroll(full)
    for (int k = 0; k < 9; k++) { a[0][k] = _mm512_setzero_ps(); a[1][k] = _mm512_setzero_ps(); }
    for (int y = y0; y < y1; y++) {
        const float *r = xc + y * Wp, *d = dout + y * W;
        for (int x = 0; x < W; x += 16) {
            const __mmask16 m = row_mask(x, W);
            const __m512 d0 = _mm512_maskz_loadu_ps(m, d + x);
            const __m512 d1 = co > 1 ? _mm512_maskz_loadu_ps(m, d + hw + x) : _mm512_setzero_ps();
#pragma clang loop unroll(full)
            for (int k = 0; k < 9; k++) {
                const __m512 s = _mm512_maskz_loadu_ps(m, r + (k / 3) * Wp + k % 3 + x);
                a[0][k] = _mm512_fmadd_ps(d0, s, a[0][k]);
                if (co > 1) a[1][k] = _mm512_fmadd_ps(d1, s, a[1][k]);
            }
        }
    }
#pragma clang loop unroll(full)
    for (int k = 0; k < 9; k++) {
        dw[k] += _mm512_reduce_add_ps(a[0][k]);
        if (co > 1) dw[(size_t)cin * 9 + k] += _mm512_reduce_add_ps(a[1][k]);
    }
}

AVX512 void fk_conv3x3_weight_gradient_avx512(float *dw, const float *dout, const float *xp, int cin, int cout, int H, int W) {
    const int plane = (H + 2) * (W + 2), band = fk_band_rows(H, W);
    // Band by band of rows; per pair of output channels (their rows stay in L1) every input channel.
    for (int y0 = 0; y0 < H; y0 += band) {
        const int y1 = y0 + band < H ? y0 + band : H;
        for (int o = 0; o < cout; o += 2) {
            for (int c = 0; c < cin; c++) {
                float *g = dw + ((size_t)o * cin + c) * 9;
                const float *d = dout + (size_t)o * H * W, *xc = xp + (size_t)c * plane;
                if (o + 1 < cout) gradient_block(2, g, d, xc, cin, H, W, y0, y1);
                else gradient_block(1, g, d, xc, cin, H, W, y0, y1);
            }
        }
    }
}
#endif
