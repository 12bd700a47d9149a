// The IRCv3 server-time tag ("time=2011-10-19T16:40:51.620Z") as Unix milliseconds.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "mxbridge/irc/message.h"

namespace mxbridge::irc {

// Strict "YYYY-MM-DDThh:mm:ss[.fraction]Z" (UTC, as server-time requires); any number of
// fraction digits, truncated to milliseconds. nullopt for anything else.
std::optional<std::int64_t> parseServerTime(std::string_view text);

// The message's "time" tag, if present and valid.
std::optional<std::int64_t> serverTimeMs(const IrcMessage& msg);

}  // namespace mxbridge::irc
