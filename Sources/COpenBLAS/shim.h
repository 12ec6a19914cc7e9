// OpenBLAS: CBLAS plus the runtime queries (kernel name, thread count).
#ifndef FLUORO_OPENBLAS_SHIM_H
#define FLUORO_OPENBLAS_SHIM_H
#include <cblas.h>
#endif
