// Reading a ghost's user id back: the ghost id ({id} of the user template) that the escaped
// part of its localpart spells, for bridges that must act on a ghost they never created
// (a Matrix user inviting a remote user's ghost to start a chat).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mxbridge {

// The inverse of the escaping BridgeContext::ghostUserId applies to a ghost id; std::nullopt
// when `escaped` is not something it writes (including ids it had to shorten).
std::optional<std::string> ghostIdFromEscaped(std::string_view escaped);

}  // namespace mxbridge
