// The decoding process: `fluoro-dicom-decoder` (Sources/FluoroDICOMDecoder) or else the caller's
// own executable, started by decoder_client.cpp with FLUORO_DICOM_WORKER in its environment, a
// socket on descriptor 3 and the input memfd on 4 (decoder_protocol.h). A constructor catches it
// before `main` (so it works for either binary and for the test runner alike), then it reads one
// file per request until the socket closes. A file that makes GDCM (or a codec under it) assert or
// crash kills only this process; the caller reports it and starts another.
#include "decoder_protocol.h"
#include "dicom_result.h"

#include <malloc.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace fluoro_dicom_detail {
const char kProcessStamp[] = __DATE__ " " __TIME__;
}

namespace {

using namespace fluoro_dicom_protocol;

/// The address-space limit the process started with; `bound` only ever tightens it.
struct rlimit startingMemoryLimit = {RLIM_INFINITY, RLIM_INFINITY};

/// Dies quietly and at once on an assertion or fault: default signal actions (not crash handlers
/// a runtime in this executable may have installed, such as Swift's), and no core file.
void prepareProcess() {
  for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS, SIGALRM}) signal(sig, SIG_DFL);
  struct rlimit noCore = {0, 0};
  setrlimit(RLIMIT_CORE, &noCore);
  // One malloc arena: each thread that decodes JPEG frames (fluoro_dicom.cpp, decodeTurbo) would
  // otherwise reserve its own 64 MiB arena, address space that counts against `bound`'s limit.
  mallopt(M_ARENA_MAX, 1);
  getrlimit(RLIMIT_AS, &startingMemoryLimit);
}

/// Bounds the work on one file of `count` bytes: fuzzed lengths make GDCM allocate gigabytes, so
/// the address space may grow by what a real file of this size can need (512 MiB + 256 x the
/// file, i.e. 100:1 compression with room to spare) and the time is timeLimit(count); such a
/// file then fails fast instead of thrashing. Only the soft limit moves, so `unbound` can undo it.
void bound(size_t count) {
  long pageSize = sysconf(_SC_PAGESIZE);
  unsigned long long pages = 0;
  if (FILE *statm = fopen("/proc/self/statm", "r")) {
    if (fscanf(statm, "%llu", &pages) != 1) pages = 0;
    fclose(statm);
  }
  unsigned long long budget = std::min<unsigned long long>((512ULL << 20) + 256ULL * count, 48ULL << 30);
  unsigned long long wanted = pages * (unsigned long long)pageSize + budget;
  struct rlimit memory = startingMemoryLimit;
  if (memory.rlim_cur == RLIM_INFINITY || wanted < memory.rlim_cur) memory.rlim_cur = rlim_t(wanted);
  setrlimit(RLIMIT_AS, &memory);
  alarm(timeLimit(count));
}

void unbound() {
  alarm(0);
  setrlimit(RLIMIT_AS, &startingMemoryLimit);
}

/// The result memfd of one request: grown to the pixels' size (pages it already has are reused)
/// and mapped while the file is decoded into it.
class ResultFile : public fluoro_dicom_pixel_sink {
public:
  explicit ResultFile(int fd) : fd_(fd) {}
  ~ResultFile() override {
    if (data_) munmap(data_, size_);
  }
  uint8_t *reserve(size_t n) override {
    struct stat info;
    if (fstat(fd_, &info) != 0) throw std::bad_alloc();
    const size_t have = size_t(info.st_size);
    // Grow; shrink only to let go of a huge earlier file's pages.
    if ((have < n || have - n > (size_t(256) << 20)) && ftruncate(fd_, off_t(n)) != 0) throw std::bad_alloc();
    if (n == 0) return nullptr;
    void *p = mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd_, 0);  // pages in bulk
    if (p == MAP_FAILED) throw std::bad_alloc();
    data_ = static_cast<uint8_t *>(p);
    size_ = n;
    return data_;
  }

private:
  int fd_;
  uint8_t *data_ = nullptr;
  size_t size_ = 0;
};

/// Reads the file at the start of the input memfd into `resultFd`. `marker`: see kCrashVariable.
Reply serve(const RequestHeader &request, const uint32_t *tags, int resultFd, const std::string &marker) {
  const size_t count = size_t(request.count);
  fluoro_dicom r;
  ResultFile result(resultFd);
  void *input = count ? mmap(nullptr, count, PROT_READ, MAP_SHARED | MAP_POPULATE, kInputFd, 0) : nullptr;
  if (input == MAP_FAILED) {
    input = nullptr;
    r.fail(FLUORO_DICOM_INTERNAL, "the decoding process cannot map the file");
  } else {
    bound(count);
    if (!marker.empty() && count && memmem(input, count, marker.data(), marker.size())) raise(SIGSEGV);
    r.sink = &result;
    fluoro_dicom_detail::readHere(r, input, count, tags, request.tagCount, request.flags);
  }
  Reply reply{r.outBytes, 0, 0, 0};
  reply.written = fluoro_dicom_detail::writeHeader(resultFd, r.outBytes, r, reply.headerBytes);
  unbound();
  if (input) munmap(input, count);
  return reply;
}

/// Serves requests until the caller closes the socket (or dies), then exits.
[[noreturn]] void serveForever() {
  prepareProcess();
  fluoro_dicom_detail::silenceGDCM();  // while the caller gets its first file ready
  const char *crashOn = getenv(kCrashVariable);
  const std::string marker = crashOn ? crashOn : "";
  static uint32_t message[(sizeof(RequestHeader) + kMaxTags * sizeof(uint32_t)) / sizeof(uint32_t)];
  for (;;) {
    int resultFd;
    ssize_t n = receiveMessage(kSocketFd, message, sizeof message, resultFd);
    if (n == 0) _exit(0);
    RequestHeader request{};
    if (n >= ssize_t(sizeof request)) memcpy(&request, message, sizeof request);
    bool valid = n >= ssize_t(sizeof request) && resultFd >= 0 && request.tagCount <= kMaxTags &&
                 size_t(n) == sizeof request + request.tagCount * sizeof(uint32_t);
    Reply reply{};
    if (valid) reply = serve(request, message + sizeof request / sizeof(uint32_t), resultFd, marker);
    if (resultFd >= 0) close(resultFd);
    iovec part{&reply, sizeof reply};
    if (!sendMessage(kSocketFd, &part, 1)) _exit(0);
  }
}

/// Runs before `main`: turns this process into a decoding process when it was started as one,
/// and exits at once (kStaleExit) when it was built from other sources than its caller.
__attribute__((constructor)) void enterDecodingProcess() {
  const char *value = getenv(kWorkerVariable);
  struct stat socketInfo;
  const std::string expected = std::to_string(kSocketFd) + " ";
  if (!value || strncmp(value, expected.c_str(), expected.size()) != 0 || fstat(kSocketFd, &socketInfo) != 0 ||
      !S_ISSOCK(socketInfo.st_mode))
    return;
  if (value + expected.size() != fluoro_dicom_detail::buildStamp()) _exit(kStaleExit);
  serveForever();
}

}  // namespace
