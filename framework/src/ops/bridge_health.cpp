#include "ops/bridge_health.h"

#include "mxbridge/log.h"

namespace mxbridge::detail {

namespace {

struct PartInfo {
    const char* name;         // metric label and log component
    const char* consequence;  // what the bridge does meanwhile, for the operator
};

// Indexed by HealthPart.
constexpr PartInfo kInfo[] = {
    {"homeserver", "requests stay in the outbox and are retried until it answers"},
    {"journal", "transactions are refused, so the homeserver retries them, until a commit succeeds"},
    {"database", "transactions are refused; put the database file back and restart the bridge"},
    {"outbox", "requests to the homeserver wait in their rooms' queues and are retried"},
};

size_t indexOf(HealthPart part) { return static_cast<size_t>(part); }

int64_t secondsSince(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

BridgeHealth::BridgeHealth(Metrics* metrics, std::chrono::seconds summaryEvery)
    : summaryEvery_(summaryEvery) {
    if (!metrics) return;
    for (size_t i = 0; i < kParts; ++i) {
        outages_[i].gauge = &metrics->gauge("mxbridge_health_failing",
                                            "1 while this part of the bridge fails (/health answers 503)",
                                            {{"part", kInfo[i].name}});
    }
}

void BridgeHealth::failing(HealthPart part, const std::string& problem, const std::string& detail) {
    const size_t i = indexOf(part);
    enum class Line { None, First, Summary } line = Line::None;
    int64_t forSeconds = 0;
    uint64_t recent = 0;
    {
        std::lock_guard lock(mutex_);
        Outage& o = outages_[i];
        auto now = std::chrono::steady_clock::now();
        o.problem = problem;
        o.detail = detail;
        ++o.failures;
        if (!o.failing) {
            o.failing = true;
            o.since = now;
            o.lastLogged = now;
            o.failures = 1;
            o.failuresAtLastLog = 1;
            failingMask_.fetch_or(1u << i);
            if (o.gauge) o.gauge->set(1);
            line = Line::First;
        } else if (now - o.lastLogged >= summaryEvery_) {
            line = Line::Summary;
            forSeconds = secondsSince(o.since);
            recent = o.failures - o.failuresAtLastLog;
            o.lastLogged = now;
            o.failuresAtLastLog = o.failures;
        }
    }
    Logger log(kInfo[i].name);
    if (line == Line::First) {
        log.warn(problem + ": " + kInfo[i].consequence, {{"reason", detail}});
    } else if (line == Line::Summary) {
        log.warn(problem + ", still", {{"for_s", forSeconds}, {"failures_since_last_line", recent},
                                       {"reason", detail}});
    }
}

void BridgeHealth::recovered(HealthPart part) {
    const size_t i = indexOf(part);
    if ((failingMask_.load(std::memory_order_relaxed) & (1u << i)) == 0) return;
    std::string problem;
    int64_t forSeconds = 0;
    uint64_t failures = 0;
    {
        std::lock_guard lock(mutex_);
        Outage& o = outages_[i];
        if (!o.failing) return;
        o.failing = false;
        failingMask_.fetch_and(~(1u << i));
        if (o.gauge) o.gauge->set(0);
        problem = o.problem;
        forSeconds = secondsSince(o.since);
        failures = o.failures;
    }
    Logger(kInfo[i].name).info("recovered: " + problem, {{"after_s", forSeconds}, {"failures", failures}});
}

bool BridgeHealth::isFailing(HealthPart part) const {
    return (failingMask_.load(std::memory_order_relaxed) & (1u << indexOf(part))) != 0;
}

std::string BridgeHealth::problem() const {
    if (failingMask_.load(std::memory_order_relaxed) == 0) return {};
    std::lock_guard lock(mutex_);
    std::string out;
    for (const Outage& o : outages_) {
        if (!o.failing) continue;
        if (!out.empty()) out += "; ";
        out += o.problem + " for " + std::to_string(secondsSince(o.since)) + " s";
        if (!o.detail.empty()) out += " (" + o.detail + ")";
    }
    return out;
}

}  // namespace mxbridge::detail
