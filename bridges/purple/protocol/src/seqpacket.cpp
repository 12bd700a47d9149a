#include "mxbridge/purple/seqpacket.h"

#include <sys/socket.h>

#include <cerrno>
#include <system_error>

#include "mxbridge/purple/frame.h"

namespace mxbridge::purple::wire {

std::pair<int, int> makeSocketPair() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0)
        throw std::system_error(errno, std::generic_category(), "socketpair(AF_UNIX, SOCK_SEQPACKET)");
    return {fds[0], fds[1]};
}

ReadResult readFrame(int fd, bool dontWait) {
    // One byte more than the limit: MSG_TRUNC makes recv report a datagram's real length, so a
    // larger one is recognised (and dropped, which SOCK_SEQPACKET does with the rest of it).
    std::string buffer(Limits::kMaxFrameBytes + 1, '\0');
    for (;;) {
        ssize_t n = ::recv(fd, buffer.data(), buffer.size(), MSG_TRUNC | (dontWait ? MSG_DONTWAIT : 0));
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return {ReadStatus::WouldBlock, {}, errno};
            if (errno == ECONNRESET) return {ReadStatus::Closed, {}, errno};
            return {ReadStatus::Failed, {}, errno};
        }
        if (n == 0) return {ReadStatus::Closed, {}, 0};
        if (static_cast<std::size_t>(n) > Limits::kMaxFrameBytes) return {ReadStatus::Oversized, {}, 0};
        buffer.resize(static_cast<std::size_t>(n));
        return {ReadStatus::Frame, std::move(buffer), 0};
    }
}

int writeFrame(int fd, std::string_view frame) {
    for (;;) {
        ssize_t n = ::send(fd, frame.data(), frame.size(), MSG_NOSIGNAL);
        if (n >= 0) return 0;
        if (errno == EINTR) continue;
        return errno;
    }
}

}  // namespace mxbridge::purple::wire
