#include "measures.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

namespace mxbridge::bench {

void ProbeLog::sent(std::uint64_t seq, Clock::time_point at) {
    std::lock_guard lock(mutex_);
    sent_[seq] = at;
}

void ProbeLog::received(std::uint64_t seq, Clock::time_point at) {
    std::lock_guard lock(mutex_);
    if (sent_.count(seq)) received_.emplace(seq, at);
}

LatencySummary ProbeLog::summary(Clock::time_point from, Clock::time_point to) const {
    std::lock_guard lock(mutex_);
    LatencySummary s;
    std::vector<double> ms;
    for (const auto& [seq, at] : sent_) {
        if (at < from || at >= to) continue;
        ++s.sent;
        auto r = received_.find(seq);
        if (r != received_.end()) ms.push_back(millisBetween(at, r->second));
    }
    s.received = ms.size();
    if (ms.empty()) return s;
    std::sort(ms.begin(), ms.end());
    auto rank = [&](double p) {
        auto i = static_cast<std::size_t>(std::ceil(p * static_cast<double>(ms.size())));
        return ms[std::clamp<std::size_t>(i, 1, ms.size()) - 1];
    };
    s.p50Ms = rank(0.50);
    s.p99Ms = rank(0.99);
    s.maxMs = ms.back();
    return s;
}

std::size_t ProbeLog::outstanding() const {
    std::lock_guard lock(mutex_);
    return sent_.size() - received_.size();
}

std::size_t peakInWindow(const std::vector<Clock::time_point>& times, Clock::duration window) {
    std::size_t best = 0;
    std::size_t first = 0;
    for (std::size_t last = 0; last < times.size(); ++last) {
        while (times[last] - times[first] >= window) ++first;
        best = std::max(best, last - first + 1);
    }
    return best;
}

std::size_t largestCluster(const std::vector<Clock::time_point>& times, Clock::duration gap) {
    std::size_t best = 0, run = 0;
    for (std::size_t i = 0; i < times.size(); ++i) {
        run = i > 0 && times[i] - times[i - 1] < gap ? run + 1 : 1;
        best = std::max(best, run);
    }
    return best;
}

std::optional<ProcStatus> readProcStatus(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    if (!in) return std::nullopt;
    ProcStatus s;
    std::string line;
    auto number = [&](std::size_t prefix) { return std::stol(line.substr(prefix)); };
    while (std::getline(in, line)) {
        if (line.rfind("VmRSS:", 0) == 0) s.rssKiB = number(6);
        else if (line.rfind("VmHWM:", 0) == 0) s.hwmKiB = number(6);
        else if (line.rfind("Threads:", 0) == 0) s.threads = number(8);
    }
    return s;
}

long countOpenFds(pid_t pid) {
    std::error_code ec;
    long n = 0;
    for (std::filesystem::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec), end;
         !ec && it != end; it.increment(ec))
        ++n;
    return ec ? -1 : n;
}

double millisBetween(Clock::time_point from, Clock::time_point to) {
    return std::chrono::duration<double, std::milli>(to - from).count();
}

}  // namespace mxbridge::bench
