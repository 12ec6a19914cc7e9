// The result file: how a read travels from the decoding process to the caller. A memfd holding
// the decoded pixels at its start (written in place by the decoder, see fluoro_dicom::allocate),
// then a header (status, messages, pixel module, the requested attributes); the reply on the
// socket gives both lengths (decoder_protocol.h). The caller maps the pixels, so they reach Swift
// without a copy, and reuses the memfd for a later file once the result is freed, so its pages
// are allocated once, not per file.
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
  return out;  // written after the pixels
}

/// Repeats a positioned transfer (pread or pwrite) until all `n` bytes moved; false on error or EOF.
template <typename Buffer, typename Transfer>
bool transferAll(int fd, Buffer *p, size_t n, uint64_t offset, Transfer transfer) {
  while (n > 0) {
    ssize_t k = transfer(fd, p, n, off_t(offset));
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return false;
    p += k;
    n -= size_t(k);
    offset += uint64_t(k);
  }
  return true;
}

bool writeAll(int fd, const void *p, size_t n, uint64_t offset) {
  return transferAll(fd, static_cast<const char *>(p), n, offset, ::pwrite);
}

bool readAll(int fd, void *p, size_t n, uint64_t offset) {
  return transferAll(fd, static_cast<char *>(p), n, offset, ::pread);
}

}  // namespace

namespace fluoro_dicom_detail {

const char kResultFileStamp[] = __DATE__ " " __TIME__;

bool writeHeader(int fd, uint64_t offset, const fluoro_dicom &r, uint64_t &headerBytes) {
  std::string header = serialize(r);
  headerBytes = header.size();
  return writeAll(fd, header.data(), header.size(), offset);
}

void readResult(fluoro_dicom &r, int fd, uint64_t pixelBytes, uint64_t headerBytes, size_t tagCount) {
  std::string header(size_t(headerBytes), '\0');
  if (headerBytes > (uint64_t(1) << 32) || !readAll(fd, header.data(), header.size(), pixelBytes)) {
    r.fail(FLUORO_DICOM_INTERNAL, "the decoding result is incomplete");
    return;
  }
  const uint8_t *base = reinterpret_cast<const uint8_t *>(header.data());
  Cursor c{base, base + header.size()};
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
  if (pixels == 0) return;
  // Shared, writable (Swift wraps the pixels without a copy and may change them), and its pages
  // mapped at once: they exist already, so this costs page-table entries only.
  void *map = mmap(nullptr, size_t(pixels), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
  if (map == MAP_FAILED) { r.fail(FLUORO_DICOM_INTERNAL, "cannot map the decoding result"); return; }
  r.mapping = map;
  r.mappingBytes = size_t(pixels);
  r.mappedPixels = static_cast<const uint8_t *>(map);
  r.mappedBytes = size_t(pixels);
}

}  // namespace fluoro_dicom_detail
