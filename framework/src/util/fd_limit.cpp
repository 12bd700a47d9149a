#include "util/fd_limit.h"

#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

namespace mxbridge::detail {

namespace {

uint64_t nrOpen() {
    std::ifstream in("/proc/sys/fs/nr_open");
    uint64_t n = 0;
    if (in >> n && n > 0) return n;
    return 1024 * 1024;  // the kernel's default
}

}  // namespace

FdLimitChange raiseFdLimitToHard() {
    FdLimitChange change;
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
        change.error = std::strerror(errno);
        return change;
    }
    change.before = change.after = limit.rlim_cur;
    change.hard = limit.rlim_max == RLIM_INFINITY ? nrOpen() : limit.rlim_max;
    if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur >= change.hard) return change;
    limit.rlim_cur = change.hard;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
        change.error = std::strerror(errno);
        return change;
    }
    change.after = change.hard;
    return change;
}

uint64_t fdLimit() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;
    return limit.rlim_cur == RLIM_INFINITY ? nrOpen() : limit.rlim_cur;
}

std::size_t inboundConnectionCap(uint64_t fdLimit) {
    return static_cast<std::size_t>(std::clamp<uint64_t>(fdLimit / 4, 16, 1024));
}

}  // namespace mxbridge::detail
