// What the caller (decoder_client.cpp) and the decoding process (decoder_process.cpp) say to each
// other over their socket (AF_UNIX, SOCK_SEQPACKET, one message per read). Not public.
//
// Request: a RequestHeader, then `tagCount` uint32 tags, with two descriptors attached
// (SCM_RIGHTS): a memfd holding the file's bytes at offset 0 (reused by the caller and only
// grown, so it may be longer than `count`), and an empty memfd for the result (result_file.cpp).
// Reply: one byte, 1 when the result file was written, 0 when it could not be. No reply (the
// socket closes) means the process died on the file.
#ifndef FLUORO_DICOM_PROTOCOL_H
#define FLUORO_DICOM_PROTOCOL_H

#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace fluoro_dicom_protocol {

/// Set in the environment of a decoding process; its value is the socket's descriptor number.
constexpr const char *kWorkerVariable = "FLUORO_DICOM_WORKER";
/// The socket's descriptor in the decoding process.
constexpr int kSocketFd = 3;
/// For tests: a decoding process whose input contains these bytes crashes (SIGSEGV) on it.
constexpr const char *kCrashVariable = "FLUORO_DICOM_CRASH_ON";
/// The most attributes one read may ask for.
constexpr size_t kMaxTags = 1024;

struct RequestHeader {
  uint64_t count;  // bytes of the file
  int32_t flags;   // fluoro_dicom_read's
  uint32_t tagCount;
};

/// Seconds one file may take before the decoding process is stopped (SIGALRM): 10 minutes + 10 s per MB.
inline unsigned timeLimit(size_t count) { return unsigned(600 + count / 100000); }

/// Sends one message of `parts` with descriptors `fds` attached (none when `fdCount` is 0).
/// Never raises SIGPIPE: a closed peer is a false return.
inline bool sendMessage(int socket, iovec *parts, size_t partCount, const int *fds, size_t fdCount) {
  alignas(cmsghdr) char control[CMSG_SPACE(2 * sizeof(int))] = {};
  msghdr message{};
  message.msg_iov = parts;
  message.msg_iovlen = partCount;
  if (fdCount > 0) {
    message.msg_control = control;
    message.msg_controllen = CMSG_SPACE(fdCount * sizeof(int));
    cmsghdr *c = CMSG_FIRSTHDR(&message);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(fdCount * sizeof(int));
    memcpy(CMSG_DATA(c), fds, fdCount * sizeof(int));
  }
  ssize_t n;
  do n = sendmsg(socket, &message, MSG_NOSIGNAL); while (n < 0 && errno == EINTR);
  return n > 0;
}

/// Receives one message into `buffer` and up to two attached descriptors (-1 when absent; close
/// them). Returns the message's length, 0 when the peer has closed, -1 on an error or a message
/// that did not fit.
inline ssize_t receiveMessage(int socket, void *buffer, size_t capacity, int fds[2]) {
  fds[0] = fds[1] = -1;
  alignas(cmsghdr) char control[CMSG_SPACE(2 * sizeof(int))] = {};
  iovec part{buffer, capacity};
  msghdr message{};
  message.msg_iov = &part;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof control;
  ssize_t n;
  do n = recvmsg(socket, &message, MSG_CMSG_CLOEXEC); while (n < 0 && errno == EINTR);
  for (cmsghdr *c = CMSG_FIRSTHDR(&message); n >= 0 && c; c = CMSG_NXTHDR(&message, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    memcpy(fds, CMSG_DATA(c), (count < 2 ? count : 2) * sizeof(int));
  }
  if (n > 0 && (message.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) return -1;
  return n;
}

}  // namespace fluoro_dicom_protocol

#endif
