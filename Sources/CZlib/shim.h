// zlib's deflate and CRC-32, for PNG files (FluoroPlot).
#ifndef FLUORO_ZLIB_SHIM_H
#define FLUORO_ZLIB_SHIM_H
#include <zlib.h>
#endif
