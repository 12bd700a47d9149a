// A scripted IRC server for fault tests: one client at a time, driven line by line from the
// test thread with blocking calls and deadlines.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace mxbridge::test {

class FakeIrcd {
public:
    FakeIrcd();  // listens on 127.0.0.1, a free port
    ~FakeIrcd();
    FakeIrcd(const FakeIrcd&) = delete;
    FakeIrcd& operator=(const FakeIrcd&) = delete;

    std::uint16_t port() const { return port_; }
    // Waits for the next client (closing the previous one); false at the deadline.
    bool accept(std::chrono::milliseconds timeout);
    std::optional<std::string> readLine(std::chrono::milliseconds timeout);
    // Skips lines until one starts with `prefix`; throws HarnessError at the deadline.
    std::string readUntil(const std::string& prefix,
                          std::chrono::milliseconds timeout = std::chrono::seconds(5));
    void writeLine(const std::string& line);
    void closeClient();

private:
    int listenFd_ = -1;
    int clientFd_ = -1;
    std::uint16_t port_ = 0;
    std::string buffer_;
    std::string seen_;
};

}  // namespace mxbridge::test
