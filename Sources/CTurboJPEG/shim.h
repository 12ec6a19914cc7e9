// libjpeg-turbo's TurboJPEG API, for JPEG Baseline DICOM pixel data.
#ifndef FLUORO_TURBOJPEG_SHIM_H
#define FLUORO_TURBOJPEG_SHIM_H
#include <turbojpeg.h>
#endif
