// Nick validity, and turning Matrix names into nicks a server will accept.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace mxbridge::irc {

// RFC 2812 shape: a letter or one of []\`_^{|} first, then those, digits and '-'.
// `maxLen` 0 means no length check.
bool isValidNick(std::string_view nick, std::size_t maxLen = 0);

// A valid nick of at most `maxLen` bytes (the server's NICKLEN) from a display name or
// localpart. Latin-1 letters lose their accents, spaces and other punctuation become '_',
// everything else is dropped. `nickTemplate` places the name ("{name}"; without it the
// template is a suffix); the name is cut, not the template, so "[m]" suffixes survive
// unless the template alone does not fit. A result that would start with a digit or '-'
// gets a leading '_'. Never empty: a name with nothing usable becomes "user".
std::string sanitizeNick(std::string_view name, std::size_t maxLen,
                         std::string_view nickTemplate = "{name}[m]");

}  // namespace mxbridge::irc
