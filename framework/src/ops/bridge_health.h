// What GET /health answers, and how outages reach the log. The parts of the delivery
// pipeline (homeserver client, journal, outbox) report their trouble here; while any part
// fails, /health answers 503 naming it. The first failure of an outage is logged at WARN at
// once, then a summary every `summaryEvery` while it lasts (retries themselves are debug
// only), and the recovery at INFO (issue 9, item 13: a 60 s outage left no WARN line).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

#include "mxbridge/metrics.h"

namespace mxbridge::detail {

enum class HealthPart { Homeserver, Journal, Database, Outbox };

class BridgeHealth {
public:
    explicit BridgeHealth(Metrics* metrics = nullptr,
                          std::chrono::seconds summaryEvery = std::chrono::seconds(30));
    BridgeHealth(const BridgeHealth&) = delete;
    BridgeHealth& operator=(const BridgeHealth&) = delete;

    // One more failure of `part`. `problem` names it for /health ("homeserver unreachable"),
    // `detail` is this failure's reason ("Connection refused").
    void failing(HealthPart part, const std::string& problem, const std::string& detail);
    // `part` works again; cheap when it was not failing (called after every success).
    void recovered(HealthPart part);
    bool isFailing(HealthPart part) const;
    // Empty when every part is well; else each failing part with its reason, e.g.
    // "homeserver unreachable for 12 s (Connection refused)".
    std::string problem() const;

private:
    struct Outage {
        bool failing = false;
        std::string problem;
        std::string detail;
        std::chrono::steady_clock::time_point since;
        std::chrono::steady_clock::time_point lastLogged;
        uint64_t failures = 0;           // since the outage began
        uint64_t failuresAtLastLog = 0;  // for the summary's "since the last line"
        Gauge* gauge = nullptr;
    };
    static constexpr size_t kParts = 4;

    std::chrono::seconds summaryEvery_;
    std::atomic<unsigned> failingMask_{0};
    mutable std::mutex mutex_;
    std::array<Outage, kParts> outages_;
};

}  // namespace mxbridge::detail
