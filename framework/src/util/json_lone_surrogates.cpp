#include "util/json_lone_surrogates.h"

#include <cstdint>

namespace mxbridge::detail {

namespace {

constexpr size_t kEscapeLength = 6;  // \uXXXX

int hexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// The UTF-16 code unit of the `\uXXXX` escape starting at `at`, if one does.
std::optional<uint16_t> codeUnitAt(std::string_view json, size_t at) {
    if (at + kEscapeLength > json.size() || json[at] != '\\' || json[at + 1] != 'u') return std::nullopt;
    uint16_t unit = 0;
    for (size_t i = at + 2; i < at + kEscapeLength; ++i) {
        int digit = hexValue(json[i]);
        if (digit < 0) return std::nullopt;
        unit = static_cast<uint16_t>(unit << 4 | digit);
    }
    return unit;
}

bool isHighSurrogate(uint16_t unit) { return unit >= 0xD800 && unit <= 0xDBFF; }
bool isLowSurrogate(uint16_t unit) { return unit >= 0xDC00 && unit <= 0xDFFF; }

}  // namespace

std::optional<std::string> withLoneSurrogatesReplaced(std::string_view json) {
    std::optional<std::string> out;
    // Escapes are read left to right, two characters at a time for the short ones, so `\\`
    // followed by `ud800` is a backslash and text, as a JSON reader sees it. Outside strings a
    // backslash is not JSON whatever follows; the parser refuses it there either way.
    size_t at = json.find('\\');
    while (at != std::string_view::npos) {
        std::optional<uint16_t> unit = codeUnitAt(json, at);
        size_t next = at + 2;
        if (unit) {
            next = at + kEscapeLength;
            bool lone = isLowSurrogate(*unit);
            if (isHighSurrogate(*unit)) {
                std::optional<uint16_t> following = codeUnitAt(json, next);
                lone = !following || !isLowSurrogate(*following);
                if (!lone) next += kEscapeLength;  // the pair is one character
            }
            if (lone) {
                if (!out) out.emplace(json);
                out->replace(at, kEscapeLength, "\\ufffd");
            }
        }
        at = next < json.size() ? json.find('\\', next) : std::string_view::npos;
    }
    return out;
}

}  // namespace mxbridge::detail
