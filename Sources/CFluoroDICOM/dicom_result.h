// The result of one read (the opaque `fluoro_dicom` of include/fluoro_dicom.h) and the internal
// entry points shared by the decoder, the result file and the decoding process. Not public.
#ifndef FLUORO_DICOM_RESULT_H
#define FLUORO_DICOM_RESULT_H

#include "fluoro_dicom.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <new>
#include <optional>
#include <string>
#include <vector>

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
  /// Where the pixels are decoded: `pixels`, or (in the decoding process) shared memory.
  uint8_t *out = nullptr;
  size_t outBytes = 0;
  /// In the decoding process: the result file, whose first bytes receive the pixels.
  int sharedFd = -1;
  /// Pixels of an isolated read: a view into `mapping`.
  const uint8_t *mappedPixels = nullptr;
  size_t mappedBytes = 0;
  void *mapping = nullptr;
  size_t mappingBytes = 0;

  fluoro_dicom() = default;
  fluoro_dicom(const fluoro_dicom &) = delete;
  fluoro_dicom &operator=(const fluoro_dicom &) = delete;
  ~fluoro_dicom() {
    if (mapping) munmap(mapping, mappingBytes);
  }
  /// A buffer of `n` bytes for the decoded pixels (decoding straight into the shared result
  /// file in the decoding process saves two copies of the whole run).
  uint8_t *allocate(size_t n) {
    if (sharedFd >= 0) {
      if (ftruncate(sharedFd, off_t(n)) != 0) throw std::bad_alloc();
      void *p = n ? mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, sharedFd, 0) : nullptr;  // pages in bulk, not one fault each
      if (p == MAP_FAILED) throw std::bad_alloc();
      mapping = p;
      mappingBytes = n;
      out = static_cast<uint8_t *>(p);
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

/// Turns GDCM's messages off and loads its dictionaries (once per process, about 30 ms).
void silenceGDCM();

/// The whole read in this process; exceptions (out of memory, GDCM's) become failures of `r`.
void readHere(fluoro_dicom &r, const void *bytes, size_t count, const uint32_t *tags, size_t tagCount, int flags);

/// The decoding process's half of the result file (result_file.cpp): after the pixels already
/// decoded at its start, the header and the header's length. False when it cannot be written.
bool writeResultFile(int fd, const fluoro_dicom &r);

/// The caller's half: maps the result file `fd` (the pixels stay in the mapping, not copied) and
/// fills `r` from it; `tagCount` is the number of attributes asked for. Closes `fd`.
void readResultFile(fluoro_dicom &r, int fd, size_t tagCount);

}  // namespace fluoro_dicom_detail

#endif
