// im2col and its adjoint for the 3x3, stride 1, padding 1 convolution (Conv2D's im2col path),
// as plain loops: on small images (HiFT's head on the 8x8 token map) the rows are a few floats
// long, and the generic Swift version's library calls per row cost more than the copies.
#include "fluoro_kernels.h"

void fk_im2col3x3(float *columns, const float *x, int cin, int H, int W) {
    const long hw = (long)H * W;
    for (int c = 0; c < cin; c++) {
        const float *plane = x + (long)c * hw;
        for (int k = 0; k < 9; k++) {
            const int dy = k / 3 - 1, dx = k % 3 - 1;
            const int lo = dx < 0 ? 1 : 0, hi = dx > 0 ? W - 1 : W;  // valid ox: [lo, hi)
            float *row = columns + ((long)c * 9 + k) * hw;
            for (int oy = 0; oy < H; oy++) {
                float *dst = row + (long)oy * W;
                const int y = oy + dy;
                if (y < 0 || y >= H) {
                    for (int ox = 0; ox < W; ox++) dst[ox] = 0;
                    continue;
                }
                const float *src = plane + (long)y * W;  // pixel ox reads x = ox + dx
                for (int ox = 0; ox < lo; ox++) dst[ox] = 0;
                for (int ox = lo; ox < hi; ox++) dst[ox] = src[ox + dx];
                for (int ox = hi; ox < W; ox++) dst[ox] = 0;
            }
        }
    }
}

void fk_col2im3x3_add(float *dx, const float *columns, int cin, int H, int W) {
    const long hw = (long)H * W;
    for (int c = 0; c < cin; c++) {
        float *plane = dx + (long)c * hw;
        for (int k = 0; k < 9; k++) {
            const int dy = k / 3 - 1, sx = k % 3 - 1;
            const int lo = sx < 0 ? 1 : 0, hi = sx > 0 ? W - 1 : W;
            const float *row = columns + ((long)c * 9 + k) * hw;
            for (int oy = 0; oy < H; oy++) {
                const int y = oy + dy;
                if (y < 0 || y >= H) continue;
                const float *src = row + (long)oy * W;
                float *dst = plane + (long)y * W;
                for (int ox = lo; ox < hi; ox++) dst[ox + sx] += src[ox];
            }
        }
    }
}
