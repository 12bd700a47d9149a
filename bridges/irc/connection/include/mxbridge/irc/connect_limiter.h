// A token bucket over connection attempts shared by every connection of a pool, so that a
// mass disconnect (netsplit, ircd restart) never becomes a reconnect storm: each attempt
// waits its turn here, after its own per-connection backoff.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>

#include "mxbridge/irc/flood_control.h"

namespace mxbridge::irc {

struct ConnectLimiterOptions {
    double attemptsPerSecond = 5.0;
    std::size_t burst = 10;
};

// acquire() is loop-thread only (IrcConnection calls it from its handlers); the counters are
// atomics and may be read from any thread.
class ConnectLimiter {
public:
    ConnectLimiter(boost::asio::io_context& io, ConnectLimiterOptions options = {});
    ConnectLimiter(const ConnectLimiter&) = delete;
    ConnectLimiter& operator=(const ConnectLimiter&) = delete;

    // Calls `go` on the loop once a token is free, in request order. Always asynchronous,
    // even with tokens to spare, so callers never re-enter themselves.
    void acquire(std::function<void()> go);

    std::size_t queued() const { return queued_.load(); }
    std::uint64_t granted() const { return granted_.load(); }

private:
    void drain();

    boost::asio::io_context& io_;
    FloodControl bucket_;
    boost::asio::steady_timer timer_;
    bool timerArmed_ = false;
    std::deque<std::function<void()>> waiting_;
    std::atomic<std::size_t> queued_{0};
    std::atomic<std::uint64_t> granted_{0};
};

}  // namespace mxbridge::irc
