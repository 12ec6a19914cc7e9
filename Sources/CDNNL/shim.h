// oneDNN (Debian libdnnl-dev 2.6, C API): matrix-product primitives (fp32 by default since stop 22,
// bf16 with --precision bf16; optionally with a bias added in the kernel), plus the
// one OpenMP call that keeps each oneDNN call on the calling thread (fluoro splits the work itself).
#ifndef FLUORO_DNNL_SHIM_H
#define FLUORO_DNNL_SHIM_H
#include <oneapi/dnnl/dnnl.h>
#include <stdint.h>

// libgomp (oneDNN's threading runtime in Debian's build); the per-thread team size.
extern void omp_set_num_threads(int n);
extern int omp_get_max_threads(void);

// Creates a matmul primitive C[m,n] = alpha * op(A) op(B) + beta * C over row-major matrices:
// A is [m,k] (stored [k,m] with row stride lda when transA), B is [k,n] (stored [n,k] with row
// stride ldb when transB), C is fp32 [m,n] with row stride ldc. A and B have type `type` (bf16 or
// f32); accumulation is fp32. With has_bias, an fp32 bias [n] is added to every row of the
// product, in the kernel (then C = alpha * (op(A) op(B) + bias) + beta * C; callers keep alpha 1).
// Returns the primitive and its descriptor (for its implementation name).
static inline dnnl_status_t fluoro_dnnl_matmul_create(
    dnnl_engine_t engine, dnnl_data_type_t type, int64_t m, int64_t n, int64_t k,
    int transA, int transB, int64_t lda, int64_t ldb, int64_t ldc, float alpha, float beta, int has_bias,
    dnnl_primitive_t *primitive, dnnl_primitive_desc_t *descriptor) {
    dnnl_memory_desc_t a_md, b_md, c_md, bias_md;
    dnnl_dims_t bias_dims = {1, n}, bias_strides = {n, 1};
    dnnl_dims_t a_dims = {m, k}, b_dims = {k, n}, c_dims = {m, n};
    dnnl_dims_t a_strides = {transA ? 1 : lda, transA ? lda : 1};
    dnnl_dims_t b_strides = {transB ? 1 : ldb, transB ? ldb : 1};
    dnnl_dims_t c_strides = {ldc, 1};
    dnnl_status_t s;
    if ((s = dnnl_memory_desc_init_by_strides(&a_md, 2, a_dims, type, a_strides)) != dnnl_success) return s;
    if ((s = dnnl_memory_desc_init_by_strides(&b_md, 2, b_dims, type, b_strides)) != dnnl_success) return s;
    if ((s = dnnl_memory_desc_init_by_strides(&c_md, 2, c_dims, dnnl_f32, c_strides)) != dnnl_success) return s;
    if (has_bias && (s = dnnl_memory_desc_init_by_strides(&bias_md, 2, bias_dims, dnnl_f32, bias_strides)) != dnnl_success) return s;
    dnnl_matmul_desc_t desc;
    if ((s = dnnl_matmul_desc_init(&desc, &a_md, &b_md, has_bias ? &bias_md : NULL, &c_md)) != dnnl_success) return s;
    dnnl_primitive_attr_t attr;
    if ((s = dnnl_primitive_attr_create(&attr)) != dnnl_success) return s;
    if (alpha != 1.0f) {
        s = dnnl_primitive_attr_set_output_scales(attr, 1, 0, &alpha);
        if (s != dnnl_success) { dnnl_primitive_attr_destroy(attr); return s; }
    }
    if (beta != 0.0f) {
        dnnl_post_ops_t ops;
        if ((s = dnnl_post_ops_create(&ops)) != dnnl_success) { dnnl_primitive_attr_destroy(attr); return s; }
        s = dnnl_post_ops_append_sum(ops, beta);
        if (s == dnnl_success) s = dnnl_primitive_attr_set_post_ops(attr, ops);
        dnnl_post_ops_destroy(ops);
        if (s != dnnl_success) { dnnl_primitive_attr_destroy(attr); return s; }
    }
    s = dnnl_primitive_desc_create(descriptor, &desc, attr, engine, NULL);
    dnnl_primitive_attr_destroy(attr);
    if (s != dnnl_success) return s;
    s = dnnl_primitive_create(primitive, *descriptor);
    if (s != dnnl_success) { dnnl_primitive_desc_destroy(*descriptor); *descriptor = NULL; }
    return s;
}

// The memory objects of one matmul (A, B, C, and the bias when `bias` is not NULL), without
// buffers: set their handles before each call.
static inline dnnl_status_t fluoro_dnnl_matmul_memories(dnnl_primitive_desc_t pd, dnnl_engine_t engine,
                                                        dnnl_memory_t *a, dnnl_memory_t *b, dnnl_memory_t *c,
                                                        dnnl_memory_t *bias) {
    dnnl_status_t s;
    if (bias && (s = dnnl_memory_create(bias, dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 1), engine, DNNL_MEMORY_NONE)) != dnnl_success) return s;
    if ((s = dnnl_memory_create(a, dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0), engine, DNNL_MEMORY_NONE)) != dnnl_success) return s;
    if ((s = dnnl_memory_create(b, dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0), engine, DNNL_MEMORY_NONE)) != dnnl_success) return s;
    return dnnl_memory_create(c, dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0), engine, DNNL_MEMORY_NONE);
}

// Runs a matmul created above on the given buffers (bias and pbias NULL when it has none).
static inline dnnl_status_t fluoro_dnnl_matmul_execute(dnnl_primitive_t primitive, dnnl_stream_t stream,
                                                        dnnl_memory_t a, dnnl_memory_t b, dnnl_memory_t c,
                                                        dnnl_memory_t bias, const void *pa, const void *pb, void *pc,
                                                        const float *pbias) {
    dnnl_status_t s;
    if ((s = dnnl_memory_set_data_handle(a, (void *)pa)) != dnnl_success) return s;
    if ((s = dnnl_memory_set_data_handle(b, (void *)pb)) != dnnl_success) return s;
    if ((s = dnnl_memory_set_data_handle(c, pc)) != dnnl_success) return s;
    if (bias && (s = dnnl_memory_set_data_handle(bias, (void *)pbias)) != dnnl_success) return s;
    dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, b}, {DNNL_ARG_DST, c}, {DNNL_ARG_BIAS, bias}};
    if ((s = dnnl_primitive_execute(primitive, stream, bias ? 4 : 3, args)) != dnnl_success) return s;
    return dnnl_stream_wait(stream);
}

// The implementation name of a primitive descriptor ("brg:avx512_core_bf16", "gemm:jit", ...).
static inline const char *fluoro_dnnl_impl_name(dnnl_primitive_desc_t pd) {
    const char *name = 0;
    if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name) != dnnl_success) return "unknown";
    return name;
}
#endif
