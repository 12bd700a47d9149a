// Whether a name from outside (provisioning, bot commands, aliases) can be sent as one IRC
// channel: a JOIN takes a comma-separated list, so "#a,#b" would join two channels, and a
// space would end the parameter.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "mxbridge/irc/isupport.h"

namespace mxbridge::irc {

// Why `name` is not a channel on a server with these ISUPPORT tokens (CHANTYPES, CHANNELLEN;
// their defaults until the server has said), or nullopt when it is one.
std::optional<std::string> channelNameProblem(std::string_view name, const ISupport& server);

}  // namespace mxbridge::irc
