#include "mxbridge/xmpp/reconnect_delay.h"

#include <algorithm>

namespace mxbridge::xmpp {

ReconnectDelay::ReconnectDelay(ReconnectDelayOptions options)
    : options_(options), random_(std::random_device{}()) {}

std::chrono::milliseconds ReconnectDelay::next() {
    double delay = static_cast<double>(options_.initial.count());
    const double cap = static_cast<double>(std::max(options_.max, options_.initial).count());
    for (std::uint32_t i = 0; i < failures_ && delay < cap; ++i) delay *= 2;
    delay = std::min(delay, cap);
    ++failures_;
    double jitter = std::clamp(options_.jitter, 0.0, 1.0);
    std::uniform_real_distribution<double> fraction(1.0 - jitter, 1.0);
    return std::chrono::milliseconds(static_cast<std::int64_t>(delay * fraction(random_)));
}

}  // namespace mxbridge::xmpp
