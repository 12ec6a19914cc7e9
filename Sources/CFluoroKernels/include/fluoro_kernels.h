#ifndef FLUORO_KERNELS_H
#define FLUORO_KERNELS_H

// Fluoro's hand-vectorised kernels: the direct 3x3 convolution (stride 1, padding 1, NCHW float32)
// for Conv2D's small-channel path, the transformer's elementwise GELU and row softmax, and bilinear
// x2 up-sampling. Each kernel has an AVX-512, an AVX2 and a portable variant;
// FK_ISA_BEST picks the best this CPU runs (checked once), an explicit value forces one (tests).

#ifdef __cplusplus
extern "C" {
#endif

/// Instruction-set variants, slowest first.
enum {
    FK_ISA_PORTABLE = 0,  // plain C (baseline x86-64 or any other CPU)
    FK_ISA_AVX2 = 1,      // AVX2 + FMA, 8 floats per vector
    FK_ISA_AVX512 = 2,    // AVX-512F + FMA, 16 floats per vector
    FK_ISA_BEST = -1,     // the best variant this CPU supports
};

/// The best variant this CPU supports (FK_ISA_PORTABLE .. FK_ISA_AVX512).
int fk_best_isa(void);

/// out[o, y, x] = act(base + bias[o] + sum_{c,ky,kx} w[o, c, ky, kx] * x[c, y+ky-1, x+kx-1]) for one image,
/// x zero outside [0, H) x [0, W) (padding 1); base = out[o, y, x] when accumulate != 0, else 0;
/// act = max(0, .) when relu != 0, else identity.
/// out: [cout, H, W]; x: [cin, H, W]; w: [cout, cin, 3, 3]; bias: [cout] or NULL.
/// A variant the CPU lacks falls back to the best it has.
void fk_conv3x3_forward(int isa, float *out, const float *x, const float *w, const float *bias,
                        int cin, int cout, int height, int width, int accumulate, int relu);

/// dw[o, c, ky, kx] += sum_{y,x} dout[o, y, x] * xp[c, y+ky, x+kx] for one image.
/// dw: [cout, cin, 3, 3]; dout: [cout, H, W]; xp: the zero-bordered input [cin, H+2, W+2].
void fk_conv3x3_weight_gradient(int isa, float *dw, const float *dout, const float *xp,
                                int cin, int cout, int height, int width);

/// columns[(c*9 + ky*3 + kx), y*W + x] = x[c, y+ky-1, x+kx-1] (0 outside the image): im2col of
/// one image for the 3x3, stride 1, padding 1 convolution. columns: [cin*9, H*W]; x: [cin, H, W].
void fk_im2col3x3(float *columns, const float *x, int cin, int height, int width);

/// The adjoint of `fk_im2col3x3`: adds each column entry into the dx pixel it was read from.
void fk_col2im3x3_add(float *dx, const float *columns, int cin, int height, int width);

/// GELU(x) = x Φ(x) (the exact, erf form) into out and GELU'(x) = Φ(x) + x φ(x) into derivative,
/// all [count]; derivative may alias input. erf to 1.5e-7 (Abramowitz & Stegun 7.1.26). Built for
/// AVX-512, AVX2 + FMA and baseline x86-64; the best runs (target_clones).
void fk_gelu_forward(float *out, float *derivative, const float *input, long count);

/// GELU(x) into out, all [count] (inference: no derivative); out may alias input.
void fk_gelu_value(float *out, const float *input, long count);

/// Numerically stable softmax of each row of x [rows, columns], in place.
void fk_softmax_rows(float *x, long rows, long columns);

/// Bilinear x2 up-sampling, align_corners = false: out [planes, 2H, 2W] from x [planes, H, W].
void fk_upsample2_bilinear_forward(float *out, const float *x, long planes, long height, long width);

/// Adds the adjoint of `fk_upsample2_bilinear_forward` into dx [planes, H, W] from dout [planes, 2H, 2W].
void fk_upsample2_bilinear_backward(float *dx, const float *dout, long planes, long height, long width);

/// One index of a parallel loop: task(context, i).
typedef void (*fk_pool_task)(void *context, long index);

/// Starts worker threads until the pool has `workers` (they live as long as the process).
void fk_pool_reserve(int workers);

/// Workers started so far.
int fk_pool_workers(void);

/// Loops the pool has run since the process started.
long fk_pool_loops(void);

/// Sends spinning workers to sleep at once (before coarse work on other threads; the next loop wakes them).
void fk_pool_park(void);

/// Runs task(context, i) for i in 0..<count on the calling thread and every worker, returning when
/// all are done (1). Returns 0 without running anything when the pool has no workers or a loop is
/// already running (a loop started from inside a loop, or from another thread): run it inline then.
int fk_pool_run(long count, fk_pool_task task, void *context);

/// Sets flush-to-zero and denormals-are-zero for the calling thread (x86-64; elsewhere nothing):
/// subnormal results become 0 and subnormal inputs read as 0, avoiding their slow path.
void fk_flush_denormals(void);

/// 1 when the calling thread flushes subnormals (FTZ and DAZ both set), else 0.
int fk_denormals_flushed(void);

#ifdef __cplusplus
}
#endif

#endif
