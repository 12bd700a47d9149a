#include "util/log_throttle.h"

namespace mxbridge::detail {

std::optional<uint64_t> LogThrottle::pass() {
    using namespace std::chrono;
    int64_t now = duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
    int64_t last = lastMs_.load(std::memory_order_relaxed);
    // One thread wins the slot; the others count themselves as held back.
    if ((last < 0 || now - last >= interval_.count()) &&
        lastMs_.compare_exchange_strong(last, now, std::memory_order_relaxed)) {
        return heldBack_.exchange(0, std::memory_order_relaxed);
    }
    heldBack_.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
}

}  // namespace mxbridge::detail
