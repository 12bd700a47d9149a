// Waiting between attempts, one way for every part of mxbridge and every bridge: exponential
// back-off with jitter for one thing that keeps failing, and a process-wide connect limiter so
// a mass disconnect (a netsplit, a server restart, the bridge starting with 10,000 logins)
// never turns into a reconnect storm.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>

namespace mxbridge {

struct BackoffOptions {
    std::chrono::milliseconds initial{1'000};  // the first wait
    std::chrono::milliseconds max{300'000};    // waits never grow past this
    double factor = 2.0;                       // each failure multiplies the wait by this
    // Each wait is drawn from [d * (1 - jitter), d], so things that failed together do not
    // come back together. 0 = no jitter, 1 = anywhere in [0, d].
    double jitter = 0.3;
};

// One failing thing's waits. Not thread-safe: one owner.
class Backoff {
public:
    explicit Backoff(BackoffOptions options = {});

    // The wait before the next attempt; each call counts one more failure.
    std::chrono::milliseconds next();
    // A success: the next failure waits `initial` again.
    void reset() { failures_ = 0; }
    uint32_t failures() const { return failures_; }
    const BackoffOptions& options() const { return options_; }

    // The wait after `failures` failures (0 = the first retry waits about `initial`), for
    // callers that keep the count themselves (the outbox keeps it per request).
    static std::chrono::milliseconds delayAfter(const BackoffOptions& options, uint32_t failures);

private:
    BackoffOptions options_;
    uint32_t failures_ = 0;
};

// The process-wide limit on connection attempts (config: remote.connects_per_second and
// remote.connect_burst), shared by every bridge and every login. A connection waits its turn
// here after its own Backoff.
class ConnectLimiter {
public:
    virtual ~ConnectLimiter() = default;
    // Calls `go` once a token is free, in request order, on a framework thread (never inside
    // acquire itself); `go` should only post the attempt to the bridge's own loop, and check
    // there that the connection still wants it (it may have been retired meanwhile).
    virtual void acquire(std::function<void()> go) = 0;
    // Attempts waiting now, and granted since start (for a bridge's own status output).
    virtual std::size_t queued() const = 0;
    virtual uint64_t granted() const = 0;
};

}  // namespace mxbridge
