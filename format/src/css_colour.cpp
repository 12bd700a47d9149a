// Matrix HTML colours: "#rrggbb" in data-mx-color, and the "#rgb" short form some send.
#include "mxbridge/format/css_colour.h"

namespace mxbridge::format {

namespace {

int hexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

std::optional<std::uint32_t> parseCssColour(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    if (!text.empty() && text.front() == '#') text.remove_prefix(1);
    if (text.size() != 3 && text.size() != 6) return std::nullopt;
    std::uint32_t rgb = 0;
    for (char c : text) {
        int v = hexValue(c);
        if (v < 0) return std::nullopt;
        rgb = (rgb << 4) | static_cast<std::uint32_t>(v);
        if (text.size() == 3) rgb = (rgb << 4) | static_cast<std::uint32_t>(v);
    }
    return rgb;
}

std::string cssColour(std::uint32_t rgb) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out = "#";
    for (int shift = 20; shift >= 0; shift -= 4) out += kHex[(rgb >> shift) & 0xF];
    return out;
}

}  // namespace mxbridge::format
