// The caller's side of the decoding process (decoder_process.cpp): isolated reads. One long-lived
// process per worker, started on first use with posix_spawn and restarted after a file kills it.
// Spawn + exec rather than fork: the caller is a multi-threaded Swift process, and a forked copy
// of it may only call async-signal-safe functions (another thread may have held a lock of malloc,
// the C++ runtime or GDCM at the fork); an exec'd process starts clean. The executable is the lean
// `fluoro-dicom-decoder` beside the caller's (it starts in half the time: GDCM without Swift,
// OpenBLAS, oneDNN, MPI), else the caller's own (/proc/self/exe). A file travels in a memfd, its
// result in another (result_file.cpp) that the caller maps, so the decoded pixels are not copied;
// both memfds are reused from file to file, so their pages are allocated once rather than per file.
#include "decoder_protocol.h"
#include "dicom_result.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

extern char **environ;

namespace fluoro_dicom_detail {
const char kClientStamp[] = __DATE__ " " __TIME__;
}

namespace {

/// Result memfds not in use: taken for a request, handed back when its result is freed (on any
/// thread, maybe after the worker is gone, hence shared). Their pages stay allocated, so the next
/// file decodes into memory that exists; at most two are kept.
class ResultPool {
public:
  ~ResultPool() {
    for (int fd : idle_) close(fd);
  }
  /// An idle memfd, or a new one (-1 when none can be made).
  int take() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!idle_.empty()) {
        int fd = idle_.back();
        idle_.pop_back();
        return fd;
      }
    }
    return memfd_create("fluoro-dicom-result", MFD_CLOEXEC);
  }
  void give(int fd) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (idle_.size() < 2) idle_.push_back(fd);
    else close(fd);
  }

private:
  std::mutex mutex_;
  std::vector<int> idle_;
};

}  // namespace

struct fluoro_dicom_worker {
  /// One read at a time per process.
  std::mutex mutex;
  /// The test crash marker to pass on (kCrashVariable); nullopt: the caller's environment decides.
  std::optional<std::string> crashMarker;
  pid_t pid = -1;
  int socket = -1;
  /// What the last process runs; the caller's own executable after a stale decoder binary.
  std::string executable;
  bool ownExecutableOnly = false;
  /// The file being read, shared with the process; grown as needed, shrunk after a huge one.
  int inputFd = -1;
  size_t inputBytes = 0;
  std::shared_ptr<ResultPool> results = std::make_shared<ResultPool>();
  std::atomic<uint64_t> spawns{0};
};

namespace {

using namespace fluoro_dicom_protocol;

/// The decoding process's environment: the caller's, with the worker variable, the crash marker
/// when this worker sets it, and the Swift runtime's backtracer off (a crash must die at once).
std::vector<std::string> processEnvironment(const fluoro_dicom_worker &w) {
  auto named = [](const char *entry, const char *name) {
    size_t n = strlen(name);
    return strncmp(entry, name, n) == 0 && entry[n] == '=';
  };
  std::vector<std::string> env;
  for (char **e = environ; e && *e; e++) {
    if (named(*e, kWorkerVariable) || named(*e, "SWIFT_BACKTRACE") || (w.crashMarker && named(*e, kCrashVariable))) continue;
    env.push_back(*e);
  }
  if (w.crashMarker && !w.crashMarker->empty()) env.push_back(std::string(kCrashVariable) + "=" + *w.crashMarker);
  env.push_back("SWIFT_BACKTRACE=enable=no");
  env.push_back(std::string(kWorkerVariable) + "=" + std::to_string(kSocketFd) + " " + fluoro_dicom_detail::buildStamp());
  return env;
}

/// `fluoro-dicom-decoder` beside this process's executable, or "" when there is none.
const std::string &leanDecoder() {
  static const std::string path = [] {
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return std::string();
    std::string dir(self, size_t(n));
    dir.erase(dir.rfind('/') + 1);
    std::string candidate = dir + kDecoderName;
    return access(candidate.c_str(), X_OK) == 0 ? candidate : std::string();
  }();
  return path;
}

/// The input memfd, created once per worker (it outlives its processes).
bool createInput(fluoro_dicom_worker &w, std::string &why) {
  if (w.inputFd < 0) w.inputFd = memfd_create("fluoro-dicom-input", MFD_CLOEXEC);
  if (w.inputFd < 0) { why = std::string("cannot create its input buffer: ") + strerror(errno); return false; }
  return true;
}

/// posix_spawn of `path` with `fds` on the descriptors `targets`, /dev/null for standard input,
/// output and error, every other descriptor closed, default signal actions and an empty mask.
/// Returns 0 or an errno value.
int launch(const std::string &path, const int fds[2], const int targets[2], std::vector<std::string> &env, pid_t &pid) {
  std::vector<char *> envp;
  for (auto &e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  char name[] = "fluoro-dicom-decoder";
  char *argv[] = {name, nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  for (int i = 0; i < 2; i++) posix_spawn_file_actions_adddup2(&actions, fds[i], targets[i]);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addclosefrom_np(&actions, kInputFd + 1);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setsigdefault(&attributes, &all);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  int error = posix_spawn(&pid, path.c_str(), &actions, &attributes, argv, envp.data());
  posix_spawnattr_destroy(&attributes);
  posix_spawn_file_actions_destroy(&actions);
  return error;
}

/// Starts a decoding process for `w`: `fluoro-dicom-decoder` when there is one that has not
/// failed, else this executable; the socket's other end on kSocketFd, the input memfd on kInputFd.
bool spawn(fluoro_dicom_worker &w, std::string &why) {
  if (!createInput(w, why)) return false;
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) { why = strerror(errno); return false; }
  // Copies above the targets, so no dup2 overwrites a descriptor a later one still needs.
  const int targets[2] = {kSocketFd, kInputFd};
  int high[2] = {fcntl(pair[1], F_DUPFD_CLOEXEC, kInputFd + 1), fcntl(w.inputFd, F_DUPFD_CLOEXEC, kInputFd + 1)};
  int error = high[0] < 0 || high[1] < 0 ? errno : 0;
  close(pair[1]);
  w.executable = w.ownExecutableOnly || leanDecoder().empty() ? "/proc/self/exe" : leanDecoder();
  std::vector<std::string> env = processEnvironment(w);
  if (error == 0) error = launch(w.executable, high, targets, env, w.pid);
  for (int fd : high) if (fd >= 0) close(fd);
  if (error != 0) {
    close(pair[0]);
    w.pid = -1;
    why = strerror(error);
    return false;
  }
  w.socket = pair[0];
  w.spawns++;
  return true;
}

/// Closes the socket and waits for the process; returns its wait status (0 when unknown).
/// `kill`: stop it first (it may still be running).
int reap(fluoro_dicom_worker &w, bool kill) {
  if (w.socket >= 0) close(w.socket);
  w.socket = -1;
  int status = 0;
  if (w.pid > 0) {
    if (kill) ::kill(w.pid, SIGKILL);
    while (waitpid(w.pid, &status, 0) < 0 && errno == EINTR) {}
  }
  w.pid = -1;
  return status;
}

/// Puts the file's bytes in the shared input memfd.
bool stageInput(fluoro_dicom_worker &w, const void *bytes, size_t count, std::string &why) {
  if (!createInput(w, why)) return false;
  if (w.inputBytes > count + (size_t(256) << 20)) {  // do not hold on to a huge file's memory
    if (ftruncate(w.inputFd, off_t(count)) != 0) { why = strerror(errno); return false; }
    w.inputBytes = count;
  }
  const char *p = static_cast<const char *>(bytes);
  for (size_t done = 0; done < count;) {
    ssize_t k = pwrite(w.inputFd, p + done, count - done, off_t(done));
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) { why = strerror(k < 0 ? errno : ENOSPC); return false; }
    done += size_t(k);
  }
  w.inputBytes = std::max(w.inputBytes, count);
  return true;
}

bool sendRequest(fluoro_dicom_worker &w, const RequestHeader &request, const uint32_t *tags, int resultFd) {
  iovec parts[2] = {{const_cast<RequestHeader *>(&request), sizeof request},
                    {const_cast<uint32_t *>(tags), request.tagCount * sizeof(uint32_t)}};
  return w.socket >= 0 && sendMessage(w.socket, parts, request.tagCount ? 2 : 1, resultFd);
}

/// Why the process died on a file of `count` bytes (`status` from waitpid).
std::string deathMessage(int status, size_t count) {
  int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  if (sig == SIGABRT) return "GDCM aborted on this file (an internal consistency check failed); it is truncated or corrupt";
  if (sig == SIGALRM) return "GDCM took too long on this file (over " + std::to_string(timeLimit(count)) + " s); it is probably corrupt";
  if (sig) return std::string("GDCM crashed on this file (signal ") + std::to_string(sig) + ", " + strsignal(sig) + "); it is truncated or corrupt";
  return "the decoding process failed";
}

enum class Outcome { replied, died, unstartable };

/// After a process of `fluoro-dicom-decoder` ended with `status`: true, and this executable is used
/// from now on, when it exited by itself. A decoding process only does that when it cannot serve:
/// built from other sources (kStaleExit) or unable to start.
bool leanDecoderFailed(fluoro_dicom_worker &w, int status) {
  if (!WIFEXITED(status) || w.ownExecutableOnly || w.executable == "/proc/self/exe") return false;
  w.ownExecutableOnly = true;
  return true;
}

/// Sends one request (starting a process if none runs, or replacing one that died between files)
/// and waits for its reply. `died`: `status` is the process's wait status.
Outcome exchange(fluoro_dicom_worker &w, const RequestHeader &request, const uint32_t *tags, int resultFd, Reply &reply,
                 int &status, std::string &why) {
  for (int attempt = 0; !sendRequest(w, request, tags, resultFd); attempt++) {
    if (w.pid > 0) leanDecoderFailed(w, reap(w, true));
    if (attempt == 2 || !spawn(w, why)) return Outcome::unstartable;
  }
  int unexpected;
  ssize_t n = receiveMessage(w.socket, &reply, sizeof reply, unexpected);
  if (unexpected >= 0) close(unexpected);
  if (n == ssize_t(sizeof reply)) return Outcome::replied;
  status = reap(w, n != 0);
  return Outcome::died;
}

/// One read in the worker's process, started or restarted as needed.
void readIsolated(fluoro_dicom_worker &w, fluoro_dicom &r, const void *bytes, size_t count, const uint32_t *tags, size_t tagCount, int flags) {
  if (tagCount > kMaxTags) { r.fail(FLUORO_DICOM_INTERNAL, "too many attributes asked for"); return; }
  std::lock_guard<std::mutex> lock(w.mutex);
  std::string why;
  if (!stageInput(w, bytes, count, why)) { r.fail(FLUORO_DICOM_CRASHED, "cannot pass the file to the decoding process: " + why); return; }
  const int resultFd = w.results->take();
  if (resultFd < 0) { r.fail(FLUORO_DICOM_CRASHED, std::string("cannot create the result buffer: ") + strerror(errno)); return; }
  r.onFree = [pool = w.results, resultFd] { pool->give(resultFd); };  // after the pixels are unmapped
  const RequestHeader request{count, flags, uint32_t(tagCount)};
  Reply reply{};
  int status = 0;
  Outcome outcome = exchange(w, request, tags, resultFd, reply, status, why);
  if (outcome == Outcome::died && leanDecoderFailed(w, status)) outcome = exchange(w, request, tags, resultFd, reply, status, why);
  if (outcome == Outcome::unstartable) {
    r.fail(FLUORO_DICOM_CRASHED, "cannot start the decoding process: " + (why.empty() ? std::string("it does not answer") : why));
    return;
  }
  if (outcome == Outcome::died) { r.fail(FLUORO_DICOM_CRASHED, deathMessage(status, count)); return; }
  if (!reply.written) { r.fail(FLUORO_DICOM_CRASHED, "the decoding process failed"); return; }
  fluoro_dicom_detail::readResult(r, resultFd, reply.pixelBytes, reply.headerBytes, tagCount);
}

/// At exit: the shared worker's process is stopped and waited for (unless a read is under way).
/// Killed, not asked: it is idle and holds nothing, and this does not wait for a process still
/// starting up.
void stopShared();

fluoro_dicom_worker *shared() {
  static fluoro_dicom_worker *worker = [] {
    auto *w = new fluoro_dicom_worker;
    atexit(stopShared);
    return w;
  }();
  return worker;
}

void stopShared() {
  fluoro_dicom_worker *w = shared();
  if (!w->mutex.try_lock()) return;
  reap(*w, true);
  w->mutex.unlock();
}

}  // namespace

extern "C" {

fluoro_dicom_worker *fluoro_dicom_worker_shared(void) { return shared(); }

fluoro_dicom_worker *fluoro_dicom_worker_new(const char *crash_marker) {
  auto *w = new (std::nothrow) fluoro_dicom_worker;
  if (w) w->crashMarker = std::string(crash_marker ? crash_marker : "");
  return w;
}

void fluoro_dicom_worker_free(fluoro_dicom_worker *w) {
  if (!w || w == shared()) return;
  {
    std::lock_guard<std::mutex> lock(w->mutex);
    reap(*w, true);
    if (w->inputFd >= 0) close(w->inputFd);
  }
  delete w;
}

int fluoro_dicom_worker_start(fluoro_dicom_worker *w) {
  if (!w) return -1;
  std::lock_guard<std::mutex> lock(w->mutex);
  std::string why;
  return w->pid > 0 || spawn(*w, why) ? 0 : -1;
}

uint64_t fluoro_dicom_worker_spawns(const fluoro_dicom_worker *w) { return w ? w->spawns.load() : 0; }

const char *fluoro_dicom_worker_executable(fluoro_dicom_worker *w) {
  if (!w) return "";
  std::lock_guard<std::mutex> lock(w->mutex);
  return w->executable.c_str();
}

fluoro_dicom *fluoro_dicom_worker_read(fluoro_dicom_worker *w, const void *bytes, size_t count, const uint32_t *tags,
                                       size_t tag_count, int flags) {
  fluoro_dicom *r = new (std::nothrow) fluoro_dicom;
  if (!r) return nullptr;
  try {
    if (w) readIsolated(*w, *r, bytes, count, tags, tag_count, flags);
    else r->fail(FLUORO_DICOM_CRASHED, "no decoding process");
  } catch (const std::exception &e) {
    r->fail(FLUORO_DICOM_INTERNAL, std::string("reading through the decoding process failed: ") + e.what());
  }
  return r;
}

}  // extern "C"
