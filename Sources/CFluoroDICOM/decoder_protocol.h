// What the caller (decoder_client.cpp) and the decoding process (decoder_process.cpp) say to each
// other. Not public.
//
// The process starts with three descriptors: the socket (AF_UNIX, SOCK_SEQPACKET: one message per
// request or reply) on 3, the input memfd on 4 and the result memfd on 5. Both memfds belong to
// the caller, outlive a process that dies and only grow (so their pages are allocated once).
// Request: a RequestHeader, then `tagCount` uint32 tags; the file's bytes are at the start of the
// input memfd. Reply: a Reply; the pixels are at the start of the result memfd, the header
// (result_file.cpp) right after them. No reply (the socket closes) means the process died.
#ifndef FLUORO_DICOM_PROTOCOL_H
#define FLUORO_DICOM_PROTOCOL_H

#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>

namespace fluoro_dicom_protocol {

/// Set in the environment of a decoding process; its value is the socket's descriptor number.
constexpr const char *kWorkerVariable = "FLUORO_DICOM_WORKER";
/// Descriptors of the decoding process.
constexpr int kSocketFd = 3, kInputFd = 4, kResultFd = 5;
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

/// Sends one message of `parts`. Never raises SIGPIPE: a closed peer is a false return.
inline bool sendMessage(int socket, iovec *parts, size_t partCount) {
  msghdr message{};
  message.msg_iov = parts;
  message.msg_iovlen = partCount;
  ssize_t n;
  do n = sendmsg(socket, &message, MSG_NOSIGNAL); while (n < 0 && errno == EINTR);
  return n > 0;
}

/// Receives one message into `buffer`. Returns its length, 0 when the peer has closed, -1 on an
/// error or a message longer than `capacity`.
inline ssize_t receiveMessage(int socket, void *buffer, size_t capacity) {
  iovec part{buffer, capacity};
  msghdr message{};
  message.msg_iov = &part;
  message.msg_iovlen = 1;
  ssize_t n;
  do n = recvmsg(socket, &message, 0); while (n < 0 && errno == EINTR);
  if (n > 0 && (message.msg_flags & MSG_TRUNC)) return -1;
  return n;
}

}  // namespace fluoro_dicom_protocol

#endif
