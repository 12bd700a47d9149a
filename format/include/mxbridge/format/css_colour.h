// Colours as Matrix HTML writes them: data-mx-color="#rrggbb".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mxbridge::format {

// "#rgb" or "#rrggbb" (case-insensitive; '#' optional, spaces around ignored, as clients
// send all of these) to 0xRRGGBB; nullopt for anything else, names ("red") included.
std::optional<std::uint32_t> parseCssColour(std::string_view text);

// 0xRRGGBB to "#rrggbb" (lower case; bits above 24 ignored).
std::string cssColour(std::uint32_t rgb);

}  // namespace mxbridge::format
