// How long the component waits before connecting again: initial * 2^failures, capped, with up
// to `jitter` of it taken off at random. A small local stand-in for the framework's
// mxbridge::Backoff (framework/include/mxbridge/backoff.h): that contract has no
// implementation on main yet, and this layer links nothing from the framework.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace mxbridge::xmpp {

struct ReconnectDelayOptions {
    std::chrono::milliseconds initial{1'000};
    std::chrono::milliseconds max{300'000};
    double jitter = 0.3;  // each wait is drawn from [d * (1 - jitter), d]
};

class ReconnectDelay {
public:
    explicit ReconnectDelay(ReconnectDelayOptions options = {});
    // The wait before the next attempt; counts one more failure.
    std::chrono::milliseconds next();
    // A success: the next failure waits about `initial` again.
    void reset() { failures_ = 0; }
    std::uint32_t failures() const { return failures_; }

private:
    ReconnectDelayOptions options_;
    std::uint32_t failures_ = 0;
    std::mt19937_64 random_;
};

}  // namespace mxbridge::xmpp
