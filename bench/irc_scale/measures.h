// What the scale benchmark measures, kept apart from how it drives the processes: probe
// latencies by time window, event rates, and a process's memory and threads from /proc.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

namespace mxbridge::bench {

using Clock = std::chrono::steady_clock;

struct LatencySummary {
    std::size_t sent = 0;
    std::size_t received = 0;  // the rest never arrived (lost or still under way)
    double p50Ms = 0;
    double p99Ms = 0;
    double maxMs = 0;
};

// Numbered probe messages: when each was sent and when it was first seen at the other end.
// Safe from any thread.
class ProbeLog {
public:
    void sent(std::uint64_t seq, Clock::time_point at);
    // Later sightings of the same probe (a retried delivery) keep the first time.
    void received(std::uint64_t seq, Clock::time_point at);
    // Probes sent in [from, to): nearest-rank percentiles over those that arrived.
    LatencySummary summary(Clock::time_point from, Clock::time_point to) const;
    // Sent but not seen yet.
    std::size_t outstanding() const;

private:
    mutable std::mutex mutex_;
    std::map<std::uint64_t, Clock::time_point> sent_;
    std::map<std::uint64_t, Clock::time_point> received_;
};

// The most events within any `window` (sliding, half-open), among sorted `times`.
std::size_t peakInWindow(const std::vector<Clock::time_point>& times, Clock::duration window);
// The largest run of sorted `times` with no gap of `gap` or more inside it: events a server
// releases together (InspIRCd completes registrations on a once-a-second tick).
std::size_t largestCluster(const std::vector<Clock::time_point>& times, Clock::duration gap);

struct ProcStatus {
    long rssKiB = 0;  // VmRSS
    long hwmKiB = 0;  // VmHWM: the kernel's peak RSS over the process's life
    long threads = 0;
};

// nullopt once the process is gone.
std::optional<ProcStatus> readProcStatus(pid_t pid);
// Open descriptors (sockets included), -1 when unreadable.
long countOpenFds(pid_t pid);

double millisBetween(Clock::time_point from, Clock::time_point to);

}  // namespace mxbridge::bench
