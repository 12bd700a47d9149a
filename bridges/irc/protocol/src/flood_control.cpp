// Token bucket as a generic cell rate algorithm.
#include "mxbridge/irc/flood_control.h"

#include <algorithm>

namespace mxbridge::irc {

FloodControl::FloodControl(std::size_t burst, Clock::duration interval)
    : burst_(std::max<std::size_t>(burst, 1)),
      interval_(std::max(interval, Clock::duration::zero())) {}

bool FloodControl::tryTake(Clock::time_point now) {
    Clock::time_point full = std::max(busyUntil_, now);
    if (full - now > interval_ * static_cast<long>(burst_ - 1)) return false;
    busyUntil_ = full + interval_;
    return true;
}

FloodControl::Clock::time_point FloodControl::nextAvailable(Clock::time_point now) const {
    Clock::time_point full = std::max(busyUntil_, now);
    return std::max(now, full - interval_ * static_cast<long>(burst_ - 1));
}

std::size_t FloodControl::available(Clock::time_point now) const {
    if (interval_ == Clock::duration::zero()) return burst_;
    Clock::duration pending = std::max(busyUntil_, now) - now;
    auto used = static_cast<std::size_t>((pending + interval_ - Clock::duration(1)) / interval_);
    return used >= burst_ ? 0 : burst_ - used;
}

}  // namespace mxbridge::irc
