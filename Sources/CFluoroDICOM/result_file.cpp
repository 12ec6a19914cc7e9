// The result file: how a read travels from the decoding process to the caller. A memfd holding
// the decoded pixels (written in place by the decoder, see fluoro_dicom::allocate), then a header
// (status, messages, pixel module, the requested attributes), then the header's length (8 bytes).
// The caller maps it privately, so the pixels reach Swift without a copy.
#include "dicom_result.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace {

void put(std::string &out, const void *p, size_t n) { out.append(static_cast<const char *>(p), n); }
void putString(std::string &out, const std::string &s) { uint64_t n = s.size(); put(out, &n, 8); out += s; }
void putOptional(std::string &out, const std::optional<std::string> &s) {
  uint8_t present = s.has_value();
  put(out, &present, 1);
  if (s) putString(out, *s);
}

struct Cursor {
  const uint8_t *p, *end;
  bool ok = true;
  void get(void *dst, size_t n) {
    if (size_t(end - p) < n) { ok = false; memset(dst, 0, n); return; }
    memcpy(dst, p, n);
    p += n;
  }
  std::string string() {
    uint64_t n = 0;
    get(&n, 8);
    if (!ok || size_t(end - p) < n) { ok = false; return ""; }
    std::string s(reinterpret_cast<const char *>(p), n);
    p += n;
    return s;
  }
  std::optional<std::string> optional() {
    uint8_t present = 0;
    get(&present, 1);
    if (!present) return std::nullopt;
    return string();
  }
};

std::string serialize(const fluoro_dicom &r) {
  std::string out;
  int32_t status = r.status;
  put(out, &status, 4);
  put(out, &r.errorFrame, 4);
  put(out, &r.missingTag, 4);
  put(out, &r.module, sizeof r.module);
  putString(out, r.error);
  putString(out, r.transferSyntax);
  putString(out, r.photometric);
  uint64_t tags = r.top.size();
  put(out, &tags, 8);
  for (size_t i = 0; i < tags; i++) {
    putOptional(out, r.top[i]);
    uint64_t frames = r.perFrame[i].size();
    put(out, &frames, 8);
    for (auto &v : r.perFrame[i]) putOptional(out, v);
  }
  uint64_t pixels = r.outBytes;
  put(out, &pixels, 8);
  return out;  // the pixels follow
}

bool writeAll(int fd, const void *p, size_t n) {
  const char *c = static_cast<const char *>(p);
  while (n > 0) {
    ssize_t k = write(fd, c, n);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return false;
    c += k;
    n -= size_t(k);
  }
  return true;
}

}  // namespace

namespace fluoro_dicom_detail {

bool writeResultFile(int fd, const fluoro_dicom &r) {
  std::string header = serialize(r);
  uint64_t headerBytes = header.size();
  return ftruncate(fd, off_t(r.outBytes)) == 0 && lseek(fd, off_t(r.outBytes), SEEK_SET) >= 0 &&
         writeAll(fd, header.data(), header.size()) && writeAll(fd, &headerBytes, 8);
}

void readResultFile(fluoro_dicom &r, int fd, size_t tagCount) {
  off_t size = lseek(fd, 0, SEEK_END);
  // Writable private mapping: the caller may wrap the pixels without copying and mutate them.
  void *map = size >= 8 ? mmap(nullptr, size_t(size), PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0) : MAP_FAILED;
  close(fd);
  if (map == MAP_FAILED) { r.fail(FLUORO_DICOM_INTERNAL, "cannot map the decoding result"); return; }
  r.mapping = map;
  r.mappingBytes = size_t(size);
  const uint8_t *base = static_cast<const uint8_t *>(map);
  uint64_t headerBytes = 0;
  memcpy(&headerBytes, base + size - 8, 8);
  if (headerBytes > uint64_t(size) - 8) { r.fail(FLUORO_DICOM_INTERNAL, "the decoding result is incomplete"); return; }
  const size_t pixelBytes = size_t(size) - 8 - size_t(headerBytes);
  Cursor c{base + pixelBytes, base + size - 8};
  int32_t status = 0;
  c.get(&status, 4);
  c.get(&r.errorFrame, 4);
  c.get(&r.missingTag, 4);
  c.get(&r.module, sizeof r.module);
  r.error = c.string();
  r.transferSyntax = c.string();
  r.photometric = c.string();
  uint64_t tagsBack = 0;
  c.get(&tagsBack, 8);
  if (tagsBack != tagCount) c.ok = false;
  r.top.assign(c.ok ? tagCount : 0, std::nullopt);
  r.perFrame.assign(c.ok ? tagCount : 0, {});
  for (size_t i = 0; c.ok && i < tagCount; i++) {
    r.top[i] = c.optional();
    uint64_t frames = 0;
    c.get(&frames, 8);
    for (uint64_t f = 0; c.ok && f < frames; f++) r.perFrame[i].push_back(c.optional());
  }
  uint64_t pixels = 0;
  c.get(&pixels, 8);
  if (!c.ok || pixels != pixelBytes) { r.fail(FLUORO_DICOM_INTERNAL, "the decoding result is incomplete"); return; }
  r.status = fluoro_dicom_status(status);
  r.mappedPixels = pixels ? base : nullptr;
  r.mappedBytes = pixels;
}

}  // namespace fluoro_dicom_detail
