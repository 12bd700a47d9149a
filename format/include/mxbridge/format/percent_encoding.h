// Percent-encoding (RFC 3986 2.1), one implementation for every place that builds a URL or a
// form body: each byte the caller's rule does not keep becomes %XX (upper-case hex).
#pragma once

#include <string>
#include <string_view>

namespace mxbridge::format {

// RFC 3986 2.3's unreserved characters, by value (std::isalnum would follow the locale).
bool isUnreserved(char c);

std::string percentEncode(std::string_view text, bool (*keep)(char) = isUnreserved);

}  // namespace mxbridge::format
