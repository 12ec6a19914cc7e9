// The direct 3x3 convolution's entry points: variant choice and the portable variant.
#include "fluoro_kernels.h"
#include "conv3x3_internal.h"
#include <stdatomic.h>
#include <string.h>

static int detect_isa(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma")) return FK_ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return FK_ISA_AVX2;
#endif
    return FK_ISA_PORTABLE;
}

int fk_best_isa(void) {
    static _Atomic int best = -2;  // -2: not checked yet
    int isa = atomic_load_explicit(&best, memory_order_relaxed);
    if (isa == -2) {
        isa = detect_isa();
        atomic_store_explicit(&best, isa, memory_order_relaxed);
    }
    return isa;
}

/// `isa`, or the best variant when it asks for the best or for one this CPU lacks.
static int resolve(int isa) {
    int best = fk_best_isa();
    return isa < 0 || isa > best ? best : isa;
}

float *fk_pack_weights(const float *w, int cin, int cout, int widest) {
    float *packed = malloc(sizeof(float) * (size_t)cout * cin * 9);
    if (!packed) abort();
    for (int o0 = 0, co; o0 < cout; o0 += co) {
        co = fk_block_size(cout - o0, widest);
        float *block = packed + (size_t)o0 * cin * 9;  // [cin, 9, co]
        for (int j = 0; j < co; j++)
            for (int t = 0; t < cin * 9; t++) block[t * co + j] = w[(size_t)(o0 + j) * cin * 9 + t];
    }
    return packed;
}

/// Portable forward: per output row, axpy of each shifted row of a zero-bordered copy of the input
/// (the compiler vectorises the x loop).
static void forward_portable(float *out, const float *in, const float *w, const float *bias,
                             int cin, int cout, int H, int W, int accumulate, int relu) {
    const int Wp = W + 2, plane = (H + 2) * Wp;
    float *xp = calloc((size_t)cin * plane, sizeof(float));  // [cin, H+2, W+2]
    if (!xp) abort();
    for (int c = 0; c < cin; c++)
        for (int y = 0; y < H; y++) memcpy(xp + (size_t)c * plane + (y + 1) * Wp + 1, in + ((size_t)c * H + y) * W, sizeof(float) * W);
    for (int o = 0; o < cout; o++) {
        for (int y = 0; y < H; y++) {
            float *restrict orow = out + ((size_t)o * H + y) * W;
            const float b = bias ? bias[o] : 0;
            for (int x = 0; x < W; x++) orow[x] = (accumulate ? orow[x] : 0) + b;
            for (int c = 0; c < cin; c++) {
                const float *wk = w + ((size_t)o * cin + c) * 9;
                for (int k = 0; k < 9; k++) {
                    const float *restrict row = xp + (size_t)c * plane + (y + k / 3) * Wp + k % 3;
                    const float wv = wk[k];
                    for (int x = 0; x < W; x++) orow[x] += wv * row[x];
                }
            }
            if (relu)
                for (int x = 0; x < W; x++) orow[x] = orow[x] > 0 ? orow[x] : 0;
        }
    }
    free(xp);
}

/// sum_{y,x} d[y, x] * r[y, x] (rows of W, strides W and Wp), in eight lanes the compiler can vectorise.
static float dot_plane(const float *restrict d, const float *restrict r, int H, int W, int Wp) {
    float lane[8] = {0};
    for (int y = 0; y < H; y++, d += W, r += Wp) {
        int x = 0;
        for (; x + 8 <= W; x += 8)
            for (int l = 0; l < 8; l++) lane[l] += d[x + l] * r[x + l];
        for (; x < W; x++) lane[x & 7] += d[x] * r[x];
    }
    return ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
}

static void weight_gradient_portable(float *dw, const float *dout, const float *xp, int cin, int cout, int H, int W) {
    const int Wp = W + 2, plane = (H + 2) * Wp;
    for (int o = 0; o < cout; o++)
        for (int c = 0; c < cin; c++)
            for (int k = 0; k < 9; k++)
                dw[((size_t)o * cin + c) * 9 + k] +=
                    dot_plane(dout + (size_t)o * H * W, xp + (size_t)c * plane + (k / 3) * Wp + k % 3, H, W, Wp);
}

void fk_conv3x3_forward(int isa, float *out, const float *x, const float *w, const float *bias,
                        int cin, int cout, int height, int width, int accumulate, int relu) {
    switch (resolve(isa)) {
#if defined(__x86_64__)
    case FK_ISA_AVX512: fk_conv3x3_forward_avx512(out, x, w, bias, cin, cout, height, width, accumulate, relu); return;
    case FK_ISA_AVX2: fk_conv3x3_forward_avx2(out, x, w, bias, cin, cout, height, width, accumulate, relu); return;
#endif
    default: forward_portable(out, x, w, bias, cin, cout, height, width, accumulate, relu);
    }
}

void fk_conv3x3_weight_gradient(int isa, float *dw, const float *dout, const float *xp,
                                int cin, int cout, int height, int width) {
    switch (resolve(isa)) {
#if defined(__x86_64__)
    case FK_ISA_AVX512: fk_conv3x3_weight_gradient_avx512(dw, dout, xp, cin, cout, height, width); return;
    case FK_ISA_AVX2: fk_conv3x3_weight_gradient_avx2(dw, dout, xp, cin, cout, height, width); return;
#endif
    default: weight_gradient_portable(dw, dout, xp, cin, cout, height, width);
    }
}
