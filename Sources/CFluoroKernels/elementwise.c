// Elementwise kernels of the transformer layers: the exact (erf) GELU with its derivative, and the
// row softmax of attention. Plain C that the compiler vectorises; `target_clones` builds an
// AVX-512, an AVX2 + FMA and a baseline copy of each and the loader picks the best for this CPU
// (Swift's own SIMD8 code is compiled for baseline x86-64: 4-float SSE, no FMA).
#include "fluoro_kernels.h"
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__)
#define FK_CLONES __attribute__((target_clones("avx512f", "arch=x86-64-v3", "default")))
#else
#define FK_CLONES
#endif
#define FK_INLINE_MATH static inline __attribute__((always_inline))

enum { LANES = 16 };  // lanes of the reductions' accumulators (one AVX-512 or two AVX2 vectors)

/// e^x (Cephes-style: x = n ln2 + r, a degree-6 polynomial for e^r, 2^n from the exponent bits);
/// the same steps as VectorMath.exp, accurate to a few ulps, x clamped to [-87.3, 88.3].
FK_INLINE_MATH float fk_exp(float x) {
    x = x < -87.3f ? -87.3f : x;
    x = x > 88.3f ? 88.3f : x;
    const float magic = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
    const float t = x * 1.442695040888963f + magic;
    const float n = t - magic;
    const float r = x - n * 0.693359375f + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * (r * r) + r + 1.0f;
    int32_t bits;
    memcpy(&bits, &t, sizeof bits);
    const int32_t scaleBits = ((bits - 0x4B400000) + 127) << 23;  // 2^n
    float scale;
    memcpy(&scale, &scaleBits, sizeof scale);
    return p * scale;
}

/// GELU(x) = x Φ(x) and GELU'(x) = Φ(x) + x φ(x), erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7);
/// its e^{-a²} (a = |x|/√2) is also φ's e^{-x²/2}.
FK_INLINE_MATH void fk_gelu(float x, float *value, float *slope) {
    const float a = (x < 0 ? -x : x) * 0.70710678118654752f;
    const float t = 1.0f / (1.0f + 0.3275911f * a);
    float p = 1.061405429f;
    p = p * t - 1.453152027f;
    p = p * t + 1.421413741f;
    p = p * t - 0.284496736f;
    p = p * t + 0.254829592f;
    const float e = fk_exp(-(a * a));
    const float erfAbs = 1.0f - p * t * e;
    const float cdf = 0.5f * (1.0f + (x < 0 ? -erfAbs : erfAbs));
    *value = x * cdf;
    *slope = cdf + x * (e * 0.39894228040143268f);
}

enum { GELU_BLOCK = 512 };  // inputs copied per block, so outputs may alias them and still vectorise

FK_CLONES void fk_gelu_forward(float *out, float *derivative, const float *input, long count) {
    float xs[GELU_BLOCK];
    for (long i0 = 0; i0 < count; i0 += GELU_BLOCK) {
        const long m = count - i0 < GELU_BLOCK ? count - i0 : GELU_BLOCK;
        memcpy(xs, input + i0, sizeof(float) * (size_t)m);
        float *restrict o = out + i0, *restrict d = derivative + i0;
        for (long i = 0; i < m; i++) {
            float value, slope;
            fk_gelu(xs[i], &value, &slope);
            o[i] = value;
            d[i] = slope;
        }
    }
}

FK_CLONES void fk_gelu_value(float *out, const float *input, long count) {
    float xs[GELU_BLOCK];
    for (long i0 = 0; i0 < count; i0 += GELU_BLOCK) {
        const long m = count - i0 < GELU_BLOCK ? count - i0 : GELU_BLOCK;
        memcpy(xs, input + i0, sizeof(float) * (size_t)m);
        float *restrict o = out + i0;
        for (long i = 0; i < m; i++) {
            float value, slope;
            fk_gelu(xs[i], &value, &slope);
            o[i] = value;
        }
    }
}

FK_CLONES void fk_softmax_rows(float *x, long rows, long columns) {
    const long full = columns - columns % LANES;
    for (long r = 0; r < rows; r++) {
        float *row = x + r * columns;
        float top[LANES];
        for (int l = 0; l < LANES; l++) top[l] = -__builtin_inff();
        for (long j = 0; j < full; j += LANES)
            for (int l = 0; l < LANES; l++) top[l] = row[j + l] > top[l] ? row[j + l] : top[l];
        float m = -__builtin_inff();
        for (int l = 0; l < LANES; l++) m = top[l] > m ? top[l] : m;
        for (long j = full; j < columns; j++) m = row[j] > m ? row[j] : m;
        float sums[LANES] = {0};
        for (long j = 0; j < full; j += LANES)
            for (int l = 0; l < LANES; l++) {
                const float e = fk_exp(row[j + l] - m);
                row[j + l] = e;
                sums[l] += e;
            }
        float sum = 0;
        for (int l = 0; l < LANES; l++) sum += sums[l];
        for (long j = full; j < columns; j++) {
            row[j] = fk_exp(row[j] - m);
            sum += row[j];
        }
        const float inverse = 1.0f / sum;
        for (long j = 0; j < columns; j++) row[j] *= inverse;
    }
}
