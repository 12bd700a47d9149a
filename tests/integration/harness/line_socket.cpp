#include "line_socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <regex>

#include "harness_error.h"

namespace mxbridge::test {

namespace {

constexpr std::size_t kHistoryLines = 200;

int remainingMs(std::chrono::steady_clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

}  // namespace

LineSocket::LineSocket(std::uint16_t port, std::string name, std::chrono::milliseconds timeout)
    : name_(std::move(name)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd_ < 0) {
        throw HarnessError(name_ + ": socket: " + std::strerror(errno));
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int err = 0;
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
        err = errno;
        if (err == EINPROGRESS) {
            pollfd pfd{fd_, POLLOUT, 0};
            if (::poll(&pfd, 1, static_cast<int>(timeout.count())) != 1) {
                err = ETIMEDOUT;
            } else {
                socklen_t len = sizeof(err);
                ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
            }
        }
    }
    if (err != 0) {
        ::close(fd_);
        fd_ = -1;
        throw HarnessError(name_ + ": connect 127.0.0.1:" + std::to_string(port) + ": " +
                           std::strerror(err));
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

LineSocket::~LineSocket() { close(); }

LineSocket::LineSocket(LineSocket&& other) noexcept
    : fd_(other.fd_),
      name_(std::move(other.name_)),
      buffer_(std::move(other.buffer_)),
      peerClosed_(other.peerClosed_),
      autoPong_(other.autoPong_),
      history_(std::move(other.history_)) {
    other.fd_ = -1;
}

LineSocket& LineSocket::operator=(LineSocket&& other) noexcept {
    if (this != &other) {
        close();
        fd_ = other.fd_;
        other.fd_ = -1;
        name_ = std::move(other.name_);
        buffer_ = std::move(other.buffer_);
        peerClosed_ = other.peerClosed_;
        autoPong_ = other.autoPong_;
        history_ = std::move(other.history_);
    }
    return *this;
}

void LineSocket::close() {
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
}

void LineSocket::writeLine(std::string_view line) {
    if (fd_ < 0) {
        throw HarnessError(name_ + ": writeLine on a closed socket");
    }
    std::string data(line);
    data += "\r\n";
    std::size_t sent = 0;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (sent < data.size()) {
        ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
        if (n > 0) {
            sent += static_cast<std::size_t>(n);
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            pollfd pfd{fd_, POLLOUT, 0};
            if (::poll(&pfd, 1, remainingMs(deadline)) == 0) {
                fail("to send: " + std::string(line), "send blocked for 10 s");
            }
        } else {
            fail("to send: " + std::string(line), std::string("send: ") + std::strerror(errno));
        }
    }
}

std::optional<std::string> LineSocket::takeLine() {
    std::size_t end = buffer_.find('\n');
    if (end == std::string::npos) {
        return std::nullopt;
    }
    std::string line = buffer_.substr(0, end);
    buffer_.erase(0, end + 1);
    if (!line.empty() && line.back() == '\r') {
        line.pop_back();
    }
    history_.push_back(line);
    if (history_.size() > kHistoryLines) {
        history_.pop_front();
    }
    return line;
}

std::optional<std::string> LineSocket::readLine(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (auto line = takeLine()) {
            if (autoPong_ && line->starts_with("PING ")) {
                writeLine("PONG " + line->substr(5));
                continue;
            }
            return line;
        }
        if (peerClosed_ || fd_ < 0) {
            fail("a line", "connection closed by peer");
        }
        pollfd pfd{fd_, POLLIN, 0};
        int ready = ::poll(&pfd, 1, remainingMs(deadline));
        if (ready == 0) {
            return std::nullopt;
        }
        if (ready < 0 && errno == EINTR) {
            continue;
        }
        char chunk[8192];
        ssize_t got = ::recv(fd_, chunk, sizeof(chunk), 0);
        if (got > 0) {
            buffer_.append(chunk, static_cast<std::size_t>(got));
        } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
            peerClosed_ = true;
            if (!buffer_.empty()) {
                buffer_ += '\n';  // a last unterminated line is still a line
            }
        }
    }
}

std::string LineSocket::readUntil(const std::string& pattern, std::chrono::milliseconds timeout) {
    const std::regex re(pattern);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        std::optional<std::string> line;
        try {
            line = readLine(std::chrono::milliseconds(remainingMs(deadline)));
        } catch (const HarnessError&) {
            fail(pattern, "connection closed by peer");
        }
        if (!line) {
            fail(pattern, "timed out after " + std::to_string(timeout.count()) + " ms");
        }
        if (std::regex_search(*line, re)) {
            return *line;
        }
    }
}

std::string LineSocket::lastLines(std::size_t n) const {
    std::string out;
    std::size_t start = history_.size() > n ? history_.size() - n : 0;
    for (std::size_t i = start; i < history_.size(); ++i) {
        out += "[" + name_ + "] " + history_[i] + "\n";
    }
    return out;
}

void LineSocket::fail(const std::string& wanted, const std::string& why) const {
    throw HarnessError(name_ + ": wanted: " + wanted + "; " + why + "; last lines:\n" +
                       lastLines());
}

}  // namespace mxbridge::test
