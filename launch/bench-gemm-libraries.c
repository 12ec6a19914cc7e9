// Is a faster sgemm than OpenBLAS the lever for the HiFT fine-tuning step? (docs/BENCHMARKS.md,
// "GEMM libraries on the step's shapes"). Times cblas_sgemm of OpenBLAS and of Intel MKL (the pip
// wheel `mkl`, sequential layer) on the bench tracker's product shapes, one thread, best of 15.
//   pip download mkl==2024.2.0 --no-deps -d /tmp/mkl && unzip -q /tmp/mkl/mkl-*.whl -d /tmp/mkl/x
//   clang -O2 launch/bench-gemm-libraries.c -o /tmp/gemm -ldl
//   OPENBLAS_CORETYPE=SkylakeX OPENBLAS_NUM_THREADS=1 MKL_THREADING_LAYER=SEQUENTIAL \
//     LD_LIBRARY_PATH=/tmp/mkl/x/mkl-2024.2.0.data/data/lib /tmp/gemm
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
typedef void (*sgemm_t)(int, int, int, int, int, int, float, const float*, int, const float*, int, float, float*, int);
enum { RowMajor = 101, NoTrans = 111, Trans = 112 };
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static double best(sgemm_t f, int ta, int tb, int m, int n, int k, float *a, float *b, float *c) {
    double bst = 1e9;
    for (int r = 0; r < 15; r++) {
        double t0 = now();
        int lda = ta == NoTrans ? k : m, ldb = tb == NoTrans ? n : k;
        f(RowMajor, ta, tb, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, n);
        double t = now() - t0; if (t < bst) bst = t;
    }
    return bst;
}
int main(void) {
    void *ob = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
    void *mk = dlopen("libmkl_rt.so.2", RTLD_NOW | RTLD_LOCAL);
    if (!ob || !mk) { printf("dlopen: %s\n", dlerror()); return 1; }
    sgemm_t fo = (sgemm_t)dlsym(ob, "cblas_sgemm"), fm = (sgemm_t)dlsym(mk, "cblas_sgemm");
    void (*ost)(int) = (void(*)(int))dlsym(ob, "openblas_set_num_threads"); if (ost) ost(1);
    void (*mst)(int) = (void(*)(int))dlsym(mk, "MKL_Set_Num_Threads"); if (mst) mst(1);
    int shapes[][5] = { {1536,576,192,NoTrans,Trans}, {1536,192,192,NoTrans,Trans}, {1536,768,192,NoTrans,Trans}, {1536,192,768,NoTrans,Trans},
                        {1536,192,576,NoTrans,NoTrans}, {1536,192,768,NoTrans,NoTrans}, {576,192,1536,Trans,NoTrans}, {768,192,1536,Trans,NoTrans}, {192,768,1536,Trans,NoTrans},
                        {192,192,64,NoTrans,Trans}, {192,64,192,NoTrans,NoTrans}, {512,192,192,NoTrans,Trans}};
    float *a = malloc(4u<<24), *b = malloc(4u<<24), *c = malloc(4u<<24);
    for (int i = 0; i < (1<<24); i++) { a[i] = (i % 13) * 0.01f; b[i] = (i % 7) * 0.02f; }
    double to = 0, tm = 0;
    for (unsigned s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int m = shapes[s][0], n = shapes[s][1], k = shapes[s][2], ta = shapes[s][3], tb = shapes[s][4];
        double o = best(fo, ta, tb, m, n, k, a, b, c), q = best(fm, ta, tb, m, n, k, a, b, c);
        to += o; tm += q;
        printf("%5d x %4d x %4d %s%s  openblas %.3f ms (%.0f GF/s)  mkl %.3f ms (%.0f GF/s)  %.2fx\n", m, n, k, ta == Trans ? "T" : "N", tb == Trans ? "T" : "N",
               o * 1e3, 2.0 * m * n * k / o * 1e-9, q * 1e3, 2.0 * m * n * k / q * 1e-9, o / q);
    }
    printf("sum openblas %.3f ms, mkl %.3f ms: %.2fx\n", to * 1e3, tm * 1e3, to / tm);
    return 0;
}
