// Text from a peer (paths, txn ids) put in a log line at a bounded length: a request may
// carry a 15 KB path, and a log that copies it whole is a way to fill the disk.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace mxbridge::detail {

inline constexpr std::size_t kLoggedTextMax = 200;

// `text` itself when it is at most `max` bytes, else its first `max` bytes (not cutting a
// UTF-8 sequence) followed by "…(N bytes)".
std::string boundedForLog(std::string_view text, std::size_t max = kLoggedTextMax);

}  // namespace mxbridge::detail
