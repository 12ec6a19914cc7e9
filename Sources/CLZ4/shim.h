// LZ4 block and frame APIs (frames are what shards store; see shards/FORMAT.md).
#ifndef FLUORO_LZ4_SHIM_H
#define FLUORO_LZ4_SHIM_H
#include <lz4.h>
#include <lz4frame.h>
#include <lz4hc.h>
#endif
