// A raw TCP connection to 127.0.0.1, for requests no well-behaved HTTP client would send:
// smuggling attempts, broken chunking, half requests, many idle connections.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace mxbridge::test {

class RawConnection {
public:
    // Throws HarnessError when the connection is refused.
    explicit RawConnection(std::uint16_t port);
    ~RawConnection();
    RawConnection(RawConnection&& other) noexcept;
    RawConnection& operator=(RawConnection&& other) noexcept;
    RawConnection(const RawConnection&) = delete;
    RawConnection& operator=(const RawConnection&) = delete;

    // Sends all of `data` unless the peer stops taking it; returns the bytes sent.
    std::size_t send(std::string_view data);
    void shutdownWrite();
    // Whatever arrives until the peer closes or `timeout` passes.
    std::string receive(std::chrono::milliseconds timeout);
    void close();

private:
    int fd_ = -1;
};

}  // namespace mxbridge::test
