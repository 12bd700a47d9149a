#include "util/log_text.h"

namespace mxbridge::detail {

std::string boundedForLog(std::string_view text, std::size_t max) {
    if (text.size() <= max) return std::string(text);
    std::size_t cut = max;
    // Back up over continuation bytes (10xxxxxx) so the cut falls between characters.
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    return std::string(text.substr(0, cut)) + "\u2026(" + std::to_string(text.size()) + " bytes)";
}

}  // namespace mxbridge::detail
