// The result of one read (the opaque `fluoro_dicom` of include/fluoro_dicom.h) and the internal
// entry points shared by the decoder, the result file and the decoding process. Not public.
#ifndef FLUORO_DICOM_RESULT_H
#define FLUORO_DICOM_RESULT_H

#include "fluoro_dicom.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <functional>
#include <new>
#include <optional>
#include <string>
#include <vector>

/// Where the decoding process puts decoded pixels: the result memfd the caller passed with the
/// request (decoder_process.cpp).
struct fluoro_dicom_pixel_sink {
  /// `n` writable bytes (throws std::bad_alloc when it cannot).
  virtual uint8_t *reserve(size_t n) = 0;
  virtual ~fluoro_dicom_pixel_sink() = default;
};

struct fluoro_dicom {
  fluoro_dicom_status status = FLUORO_DICOM_OK;
  std::string error;
  int32_t errorFrame = -1;
  uint32_t missingTag = 0;
  std::string transferSyntax, photometric;
  fluoro_dicom_pixel_module module{};
  /// Per requested tag: the top-level (or shared functional group) value, then one per frame.
  std::vector<std::optional<std::string>> top;
  std::vector<std::vector<std::optional<std::string>>> perFrame;
  std::vector<uint8_t> pixels;
  /// Where the pixels are decoded: `pixels`, or (in the decoding process) `sink`.
  uint8_t *out = nullptr;
  size_t outBytes = 0;
  fluoro_dicom_pixel_sink *sink = nullptr;
  /// Pixels of an isolated read: a view into `mapping`, the result memfd mapped.
  const uint8_t *mappedPixels = nullptr;
  size_t mappedBytes = 0;
  void *mapping = nullptr;
  size_t mappingBytes = 0;
  /// Run when the result is freed, after `mapping` is unmapped (hands the memfd back for reuse).
  std::function<void()> onFree;

  fluoro_dicom() = default;
  fluoro_dicom(const fluoro_dicom &) = delete;
  fluoro_dicom &operator=(const fluoro_dicom &) = delete;
  ~fluoro_dicom() {
    if (mapping) munmap(mapping, mappingBytes);
    if (onFree) onFree();
  }
  /// A buffer of `n` bytes for the decoded pixels (in the decoding process, straight in the
  /// buffer the caller reads them from).
  uint8_t *allocate(size_t n) {
    if (sink) {
      out = sink->reserve(n);
    } else {
      pixels.resize(n);
      out = pixels.data();
    }
    outBytes = n;
    return out;
  }
  void fail(fluoro_dicom_status s, std::string message, int32_t frame = -1) {
    status = s;
    error = std::move(message);
    errorFrame = frame;
    pixels.clear();
    outBytes = 0;
    module.decoded = 0;
  }
};

namespace fluoro_dicom_detail {

/// When each source file of this library was compiled (__DATE__ __TIME__). A decoding process
/// serves only a caller built from the same objects: a `fluoro-dicom-decoder` left over from an
/// older build must not decode with older code.
extern const char kDecodeStamp[], kResultFileStamp[], kProcessStamp[], kClientStamp[];
inline std::string buildStamp() {
  return std::string(kDecodeStamp) + "|" + kResultFileStamp + "|" + kProcessStamp + "|" + kClientStamp;
}

/// Turns GDCM's messages off and loads its dictionaries (once per process, about 10 ms of CPU;
/// deferred from GDCM's load to here, see fluoro_dicom.cpp), before any other use of GDCM.
void silenceGDCM();

/// The whole read in this process; exceptions (out of memory, GDCM's) become failures of `r`.
void readHere(fluoro_dicom &r, const void *bytes, size_t count, const uint32_t *tags, size_t tagCount, int flags);

/// The decoding process's half of the result (result_file.cpp): writes the header of `r` (status,
/// messages, pixel module, attributes) at `offset` of `fd`, just after the pixels, and sets
/// `headerBytes`. False when it cannot be written.
bool writeHeader(int fd, uint64_t offset, const fluoro_dicom &r, uint64_t &headerBytes);

/// The caller's half: fills `r` from the header at `pixelBytes` of `fd` and maps the pixels at
/// its start (not copied; `fd` stays open, the caller owns it).
void readResult(fluoro_dicom &r, int fd, uint64_t pixelBytes, uint64_t headerBytes, size_t tagCount);

}  // namespace fluoro_dicom_detail

#endif
