// Backoff: the one implementation of "wait longer after each failure" (see backoff.h). A leaf:
// the standard library only, so the IRC connection layer, which includes nothing else from
// the framework, links it too.
#include "mxbridge/backoff.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace mxbridge {

namespace {

// Waits are drawn per thread: Backoff objects have one owner, but many owners run at once.
int64_t uniformBetween(int64_t low, int64_t high) {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    return std::uniform_int_distribution<int64_t>(low, high)(rng);
}

}  // namespace

Backoff::Backoff(BackoffOptions options) : options_(options) {}

std::chrono::milliseconds Backoff::next() {
    std::chrono::milliseconds wait = delayAfter(options_, failures_);
    if (failures_ < UINT32_MAX) ++failures_;
    return wait;
}

std::chrono::milliseconds Backoff::delayAfter(const BackoffOptions& options, uint32_t failures) {
    const double initial = static_cast<double>(std::max<int64_t>(options.initial.count(), 0));
    const double cap = static_cast<double>(std::max<int64_t>(options.max.count(), 0));
    // Past 64 doublings every sensible cap is reached; the bound keeps pow() finite.
    const double grown = initial * std::pow(std::max(options.factor, 1.0), std::min<uint32_t>(failures, 64));
    const auto ceiling = static_cast<int64_t>(std::llround(std::min(grown, cap)));
    const double jitter = std::clamp(options.jitter, 0.0, 1.0);
    // [d * (1 - jitter), d]; the low end is rounded to the nearest millisecond.
    const int64_t floor = ceiling - static_cast<int64_t>(std::llround(static_cast<double>(ceiling) * jitter));
    if (floor >= ceiling) return std::chrono::milliseconds(ceiling);
    return std::chrono::milliseconds(uniformBetween(floor, ceiling));
}

}  // namespace mxbridge
