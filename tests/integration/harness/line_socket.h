// A blocking line-oriented TCP client for playing a peer in a test, e.g. an IRC user talking to
// InspIRCd: write a line, read until the answer you expect, fail with what you saw instead.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mxbridge::test {

using namespace std::chrono_literals;

class LineSocket {
public:
    // Connects to 127.0.0.1:port; throws HarnessError if that fails within `timeout`.
    explicit LineSocket(std::uint16_t port, std::string name = "client",
                        std::chrono::milliseconds timeout = 5s);
    ~LineSocket();
    LineSocket(LineSocket&& other) noexcept;
    LineSocket& operator=(LineSocket&& other) noexcept;
    LineSocket(const LineSocket&) = delete;
    LineSocket& operator=(const LineSocket&) = delete;

    // Sends `line` plus "\r\n" (IRC's terminator; XMPP-free peers accept it too).
    void writeLine(std::string_view line);

    // The next line without its terminator; nullopt when none arrives before the deadline.
    // Throws HarnessError when the peer closed the connection and no full line is left.
    std::optional<std::string> readLine(std::chrono::milliseconds timeout = 10s);

    // Reads lines until one matches the ECMAScript regex `pattern` (regex_search) and returns
    // it; lines before it are skipped. Throws HarnessError "wanted: <pattern>; last lines: …"
    // at the deadline or on close.
    std::string readUntil(const std::string& pattern, std::chrono::milliseconds timeout = 10s);

    // Answers "PING x" with "PONG x" inside readLine, so long IRC tests don't time out.
    void setAutoPong(bool on) { autoPong_ = on; }

    // The last lines received (oldest first), for failure messages.
    std::string lastLines(std::size_t n = 30) const;

    void close();
    bool isOpen() const { return fd_ >= 0; }

private:
    [[noreturn]] void fail(const std::string& wanted, const std::string& why) const;
    std::optional<std::string> takeLine();

    int fd_ = -1;
    std::string name_;
    std::string buffer_;
    bool peerClosed_ = false;
    bool autoPong_ = false;
    std::deque<std::string> history_;
};

}  // namespace mxbridge::test
