// Lets a warning through at most once per interval and counts the ones held back, so a
// flood of bad requests costs one log line a minute instead of one each (issue 9, item 4:
// 2,000 refused requests with 15 KB paths once wrote 30 MB of log in 1.2 s).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>

namespace mxbridge::detail {

class LogThrottle {
public:
    explicit LogThrottle(std::chrono::milliseconds interval) : interval_(interval) {}

    // How many were held back since the last one let through, when this one may be logged;
    // nullopt when it is to be held back (and counted). Safe from any thread.
    std::optional<uint64_t> pass();

private:
    std::chrono::milliseconds interval_;
    std::atomic<int64_t> lastMs_{-1};
    std::atomic<uint64_t> heldBack_{0};
};

}  // namespace mxbridge::detail
