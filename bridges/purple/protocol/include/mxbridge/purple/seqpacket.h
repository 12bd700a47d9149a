// Frames over an AF_UNIX SOCK_SEQPACKET socket: one datagram per message, message boundaries
// kept by the kernel, EOF when the peer is gone. Plain POSIX, so the host (GLib) and the
// bridge (Asio) both wrap the same few calls.
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace mxbridge::purple::wire {

// A connected pair, both ends close-on-exec (the parent clears the flag on the end a child
// inherits). Throws std::system_error.
std::pair<int, int> makeSocketPair();

enum class ReadStatus {
    Frame,       // `frame` holds one datagram
    WouldBlock,  // non-blocking socket with nothing to read
    Closed,      // the peer closed its end or died
    Oversized,   // a datagram above Limits::kMaxFrameBytes, dropped whole
    Failed,      // another error; `error` holds errno
};

struct ReadResult {
    ReadStatus status;
    std::string frame;
    int error = 0;
};

// Reads one datagram. EINTR is retried. With `dontWait`, a blocking socket answers
// WouldBlock instead of waiting (so a loop can read without making its writes non-blocking).
ReadResult readFrame(int fd, bool dontWait = false);

// Writes one datagram whole (SOCK_SEQPACKET never writes part of one); no SIGPIPE when the
// peer is gone. Returns 0 or the errno (EPIPE: peer gone; EAGAIN: a non-blocking socket full).
int writeFrame(int fd, std::string_view frame);

}  // namespace mxbridge::purple::wire
