// Bilinear x2 up-sampling (align_corners = false, as torch.nn.functional.interpolate) and its
// adjoint, per plane, vectorised by the compiler for AVX-512, AVX2 + FMA and baseline x86-64
// (target_clones). At factor 2 the taps are fixed: output 2i blends inputs i-1 and i as
// 1/4 : 3/4, output 2i+1 blends i and i+1 as 3/4 : 1/4, and each border repeats its edge.
#include "fluoro_kernels.h"
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#define FK_CLONES __attribute__((target_clones("avx512f", "arch=x86-64-v3", "default")))
#else
#define FK_CLONES
#endif

/// out[0, 2W) from row[0, W): the column step.
static inline __attribute__((always_inline)) void widen(float *restrict out, const float *restrict row, long W) {
    out[0] = row[0];
    for (long i = 1; i < W; i++) {
        out[2 * i - 1] = 0.75f * row[i - 1] + 0.25f * row[i];
        out[2 * i] = 0.25f * row[i - 1] + 0.75f * row[i];
    }
    out[2 * W - 1] = row[W - 1];
}

/// row[0, W) = the adjoint of `widen` applied to g[0, 2W).
static inline __attribute__((always_inline)) void narrow(float *restrict row, const float *restrict g, long W) {
    if (W == 1) { row[0] = g[0] + g[1]; return; }
    row[0] = g[0] + 0.75f * g[1] + 0.25f * g[2];
    for (long i = 1; i < W - 1; i++)
        row[i] = 0.25f * g[2 * i - 1] + 0.75f * g[2 * i] + 0.75f * g[2 * i + 1] + 0.25f * g[2 * i + 2];
    row[W - 1] = 0.25f * g[2 * W - 3] + 0.75f * g[2 * W - 2] + g[2 * W - 1];
}

FK_CLONES void fk_upsample2_bilinear_forward(float *out, const float *x, long planes, long H, long W) {
    float *row = malloc(sizeof(float) * (size_t)W);
    if (!row) abort();
    const long Wo = 2 * W;
    for (long p = 0; p < planes; p++) {
        const float *in = x + p * H * W;
        float *o = out + p * 4 * H * W;
        for (long oy = 0; oy < 2 * H; oy++) {
            // Row taps: oy = 2i -> (i-1, i) at 1/4 : 3/4; oy = 2i+1 -> (i, i+1) at 3/4 : 1/4; edges repeat.
            const long i = oy / 2;
            const float *r0, *r1;
            float w0, w1;
            if (oy % 2 == 0) { r0 = in + (i > 0 ? i - 1 : 0) * W; r1 = in + i * W; w0 = i > 0 ? 0.25f : 0; w1 = i > 0 ? 0.75f : 1; }
            else { r0 = in + i * W; r1 = in + (i < H - 1 ? i + 1 : i) * W; w0 = i < H - 1 ? 0.75f : 1; w1 = i < H - 1 ? 0.25f : 0; }
            for (long j = 0; j < W; j++) row[j] = w0 * r0[j] + w1 * r1[j];
            widen(o + oy * Wo, row, W);
        }
    }
    free(row);
}

FK_CLONES void fk_upsample2_bilinear_backward(float *dx, const float *dout, long planes, long H, long W) {
    float *row = malloc(sizeof(float) * (size_t)W);
    if (!row) abort();
    const long Wo = 2 * W;
    for (long p = 0; p < planes; p++) {
        float *d = dx + p * H * W;
        const float *g = dout + p * 4 * H * W;
        for (long oy = 0; oy < 2 * H; oy++) {
            const long i = oy / 2;
            float *r0, *r1;
            float w0, w1;
            if (oy % 2 == 0) { r0 = d + (i > 0 ? i - 1 : 0) * W; r1 = d + i * W; w0 = i > 0 ? 0.25f : 0; w1 = i > 0 ? 0.75f : 1; }
            else { r0 = d + i * W; r1 = d + (i < H - 1 ? i + 1 : i) * W; w0 = i < H - 1 ? 0.75f : 1; w1 = i < H - 1 ? 0.25f : 0; }
            narrow(row, g + oy * Wo, W);
            for (long j = 0; j < W; j++) r0[j] += w0 * row[j];
            for (long j = 0; j < W; j++) r1[j] += w1 * row[j];
        }
    }
    free(row);
}
