// The connect limiter of backoff.h made concrete on an Asio loop: a token bucket over
// connection attempts, so a mass disconnect (a netsplit, a server restart, the bridge starting
// with thousands of logins) is spread out instead of hitting the network all at once. Each
// attempt waits here after its own Backoff. Any bridge with its own io_context can use it;
// the IRC bridge shares one across every connection of a network.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "mxbridge/backoff.h"

namespace boost::asio {
class io_context;
}

namespace mxbridge {

struct ConnectLimiterOptions {
    double attemptsPerSecond = 5.0;  // the steady rate; <= 0 is taken as 1
    std::size_t burst = 10;          // attempts granted at once after a quiet spell; 0 is taken as 1
};

// acquire() may be called from any thread; `go` runs on `io`'s thread, outside every lock of
// the limiter, in the order of the acquire() calls. Destroy it before `io`; attempts still
// waiting then are never granted.
class AsioConnectLimiter final : public ConnectLimiter {
public:
    AsioConnectLimiter(boost::asio::io_context& io, ConnectLimiterOptions options = {});
    ~AsioConnectLimiter() override;
    AsioConnectLimiter(const AsioConnectLimiter&) = delete;
    AsioConnectLimiter& operator=(const AsioConnectLimiter&) = delete;

    // Always asynchronous, even with tokens to spare, so a caller never re-enters itself.
    void acquire(std::function<void()> go) override;
    std::size_t queued() const override;
    uint64_t granted() const override;

private:
    class Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace mxbridge
