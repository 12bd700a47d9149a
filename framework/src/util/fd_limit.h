// The process's open-file limit. Debian starts services with a soft limit of 1,024
// descriptors, which an IRC bridge with thousands of puppets, or a listener under a flood
// of idle connections, runs out of; the hard limit is usually far higher and ours to take.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace mxbridge::detail {

struct FdLimitChange {
    uint64_t before = 0;  // soft limit found
    uint64_t after = 0;   // soft limit now
    uint64_t hard = 0;
    std::string error;    // why it could not be raised; empty when it was (or already was)
};

// Raises the soft RLIMIT_NOFILE to the hard limit (capped at fs.nr_open when the hard
// limit is unlimited, as the kernel refuses more).
FdLimitChange raiseFdLimitToHard();

// The soft RLIMIT_NOFILE now.
uint64_t fdLimit();

// How many inbound connections one listener may hold: a quarter of the descriptors, so
// outbound connections (puppets, the homeserver client), the database and a second
// listener keep the rest; at least 16, at most 1,024 (far more than a homeserver opens).
std::size_t inboundConnectionCap(uint64_t fdLimit);

}  // namespace mxbridge::detail
