#include "fake_ircd.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness_error.h"

namespace mxbridge::test {

using Clock = std::chrono::steady_clock;

namespace {

bool waitReadable(int fd, Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() < 0) return false;
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(left.count())) > 0;
}

}  // namespace

FakeIrcd::FakeIrcd() {
    listenFd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(listenFd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::listen(listenFd_, 16) != 0 ||
        ::getsockname(listenFd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
        throw HarnessError("FakeIrcd: cannot listen");
    port_ = ntohs(addr.sin_port);
}

FakeIrcd::~FakeIrcd() {
    closeClient();
    ::close(listenFd_);
}

bool FakeIrcd::accept(std::chrono::milliseconds timeout) {
    closeClient();
    if (!waitReadable(listenFd_, Clock::now() + timeout)) return false;
    clientFd_ = ::accept(listenFd_, nullptr, nullptr);
    return clientFd_ >= 0;
}

std::optional<std::string> FakeIrcd::readLine(std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    for (;;) {
        if (auto lf = buffer_.find('\n'); lf != std::string::npos) {
            std::string line = buffer_.substr(0, lf);
            buffer_.erase(0, lf + 1);
            if (!line.empty() && line.back() == '\r') line.pop_back();
            seen_ += line + "\n";
            return line;
        }
        if (clientFd_ < 0 || !waitReadable(clientFd_, deadline)) return std::nullopt;
        char chunk[4096];
        ssize_t n = ::read(clientFd_, chunk, sizeof chunk);
        if (n <= 0) return std::nullopt;
        buffer_.append(chunk, static_cast<std::size_t>(n));
    }
}

std::string FakeIrcd::readUntil(const std::string& prefix, std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
        auto line = readLine(std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - Clock::now()));
        if (!line) break;
        if (line->rfind(prefix, 0) == 0) return *line;
    }
    throw HarnessError("FakeIrcd wanted: " + prefix + "; seen:\n" + seen_);
}

void FakeIrcd::writeLine(const std::string& line) {
    std::string out = line + "\r\n";
    if (clientFd_ >= 0) (void)!::write(clientFd_, out.data(), out.size());
}

void FakeIrcd::closeClient() {
    if (clientFd_ >= 0) ::close(clientFd_);
    clientFd_ = -1;
    buffer_.clear();
}

}  // namespace mxbridge::test
