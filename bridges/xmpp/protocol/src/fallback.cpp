#include "mxbridge/xmpp/fallback.h"

#include <algorithm>
#include <charconv>
#include <optional>
#include <utility>
#include <vector>

namespace mxbridge::xmpp {

namespace {

constexpr std::string_view kFallback = "urn:xmpp:fallback:0";

std::optional<std::size_t> number(std::string_view s) {
    std::size_t value = 0;
    auto [end, error] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (error != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
    return value;
}

// The byte offset of code point `n` in `text` (its size when `n` is the count of code points),
// nullopt past the end. Continuation bytes are not counted, so invalid UTF-8 never makes it
// cut inside a character it counted.
std::optional<std::size_t> byteOffset(std::string_view text, std::size_t n) {
    std::size_t points = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;
        if (points++ == n) return i;
    }
    if (points == n) return text.size();
    return std::nullopt;
}

}  // namespace

std::string withoutFallback(const Element& message, std::string_view forNamespace, std::string_view body) {
    std::vector<std::pair<std::size_t, std::size_t>> cuts;  // byte ranges
    for (const Element* fallback : message.children("fallback", kFallback)) {
        if (fallback->attrOr("for") != forNamespace) continue;
        auto ranges = fallback->children("body", kFallback);
        bool subjectsOnly = ranges.empty() && !fallback->children("subject", kFallback).empty();
        if (subjectsOnly) continue;
        if (ranges.empty()) return {};  // the whole message is the fallback
        for (const Element* range : ranges) {
            auto start = number(range->attrOr("start"));
            auto end = number(range->attrOr("end"));
            if (!range->attr("start") && !range->attr("end")) return {};  // the whole body
            if (!start || !end || *start > *end) continue;
            auto from = byteOffset(body, *start);
            auto to = byteOffset(body, *end);
            if (from && to) cuts.emplace_back(*from, *to);
        }
    }
    std::sort(cuts.begin(), cuts.end());
    std::string kept;
    std::size_t at = 0;
    for (auto [from, to] : cuts) {
        if (from > at) kept.append(body.substr(at, from - at));
        at = std::max(at, to);
    }
    if (at < body.size()) kept.append(body.substr(at));
    return kept;
}

}  // namespace mxbridge::xmpp
