// Token bucket for outgoing lines: servers disconnect clients that send too fast
// ("Excess Flood"), so each connection waits for a token before writing.
#pragma once

#include <chrono>
#include <cstddef>

namespace mxbridge::irc {

// `burst` lines may go at once, then one per `interval`. Time is passed in, never read,
// so callers schedule with their own timers and tests need no sleeping.
class FloodControl {
public:
    using Clock = std::chrono::steady_clock;

    FloodControl(std::size_t burst, Clock::duration interval);

    // Takes a token if one is available at `now`.
    bool tryTake(Clock::time_point now);
    // When the next token is available: `now` if one is available already.
    Clock::time_point nextAvailable(Clock::time_point now) const;
    std::size_t available(Clock::time_point now) const;

private:
    // Generic cell rate algorithm: `busyUntil_` is when the bucket will be full again.
    // Storing one time point instead of a fractional token count keeps it exact.
    std::size_t burst_;
    Clock::duration interval_;
    Clock::time_point busyUntil_{};
};

}  // namespace mxbridge::irc
