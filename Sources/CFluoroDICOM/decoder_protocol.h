// What the caller (decoder_client.cpp) and the decoding process (decoder_process.cpp) say to each
// other. Not public.
//
// The process is `fluoro-dicom-decoder` beside the caller's executable, or the caller's
// executable itself. It starts with the socket (AF_UNIX, SOCK_SEQPACKET: one message per request or reply)
// on descriptor 3 and the input memfd on 4. The input memfd belongs to the caller, outlives a
// process that dies and only grows (its pages are allocated once).
// Request: a RequestHeader, then `tagCount` uint32 tags, with the result memfd attached
// (SCM_RIGHTS; one of the caller's, reused from file to file); the file's bytes are at the start
// of the input memfd. Reply: a Reply; the pixels are at the start of the result memfd, the header
// (result_file.cpp) right after them. No reply (the socket closes) means the process died.
#ifndef FLUORO_DICOM_PROTOCOL_H
#define FLUORO_DICOM_PROTOCOL_H

#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace fluoro_dicom_protocol {

/// Set in the environment of a decoding process: the socket's descriptor number, a space and the
/// caller's fluoro_dicom_detail::buildStamp().
constexpr const char *kWorkerVariable = "FLUORO_DICOM_WORKER";
/// Exit status of a decoding process whose build stamp is not its caller's (the caller then
/// starts its own executable instead, as after any exit of `fluoro-dicom-decoder` by itself).
constexpr int kStaleExit = 86;
/// The lean decoding process, looked for beside the caller's executable.
constexpr const char *kDecoderName = "fluoro-dicom-decoder";
/// Descriptors of the decoding process.
constexpr int kSocketFd = 3, kInputFd = 4;
/// For tests: a decoding process whose input contains these bytes crashes (SIGSEGV) on it.
constexpr const char *kCrashVariable = "FLUORO_DICOM_CRASH_ON";
/// The most attributes one read may ask for.
constexpr size_t kMaxTags = 1024;

struct RequestHeader {
  uint64_t count;  // bytes of the file
  int32_t flags;   // fluoro_dicom_read's
  uint32_t tagCount;
};

struct Reply {
  uint64_t pixelBytes;   // at the start of the result memfd
  uint64_t headerBytes;  // right after the pixels
  uint32_t written;      // 0: the result could not be written
  uint32_t unused;
};

/// Seconds one file may take before the decoding process is stopped (SIGALRM): 10 minutes + 10 s per MB.
inline unsigned timeLimit(size_t count) { return unsigned(600 + count / 100000); }

/// Sends one message of `parts`, with descriptor `fd` attached unless it is -1. Never raises
/// SIGPIPE: a closed peer is a false return.
inline bool sendMessage(int socket, iovec *parts, size_t partCount, int fd = -1) {
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr message{};
  message.msg_iov = parts;
  message.msg_iovlen = partCount;
  if (fd >= 0) {
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    cmsghdr *c = CMSG_FIRSTHDR(&message);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
  }
  ssize_t n;
  do n = sendmsg(socket, &message, MSG_NOSIGNAL); while (n < 0 && errno == EINTR);
  return n > 0;
}

/// Receives one message into `buffer`, and in `fd` the descriptor attached to it (-1 when none;
/// the receiver closes it). Returns the message's length, 0 when the peer has closed, -1 on an
/// error or a message longer than `capacity`.
inline ssize_t receiveMessage(int socket, void *buffer, size_t capacity, int &fd) {
  fd = -1;
  alignas(cmsghdr) char control[CMSG_SPACE(4 * sizeof(int))] = {};
  iovec part{buffer, capacity};
  msghdr message{};
  message.msg_iov = &part;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof control;
  ssize_t n;
  do n = recvmsg(socket, &message, MSG_CMSG_CLOEXEC); while (n < 0 && errno == EINTR);
  for (cmsghdr *c = n >= 0 ? CMSG_FIRSTHDR(&message) : nullptr; c; c = CMSG_NXTHDR(&message, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; i++) {
      int received;
      memcpy(&received, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      if (fd < 0) fd = received; else close(received);
    }
  }
  if (n > 0 && (message.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) return -1;
  return n;
}

}  // namespace fluoro_dicom_protocol

#endif
