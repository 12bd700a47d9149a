// Who may change how a Matrix room is bridged: a user whose power level in the room is at
// least its state_default (what sending room state needs), as the room's own admins decide.
// Used by the provisioning API and by bot commands that name a room (`Command::roomArg`).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "mxbridge/ids.h"
#include "mxbridge/log.h"
#include "mxbridge/result.h"

namespace mxbridge::detail {

// The m.room.power_levels content of a room, or nothing when it cannot be read (the bot is
// not in the room). May call the homeserver, so never on a room queue; may throw when the
// homeserver cannot be reached.
using PowerLevelsFetch = std::function<std::optional<nlohmann::json>(const RoomId&)>;

// Reading m.room.power_levels content (spec: m.room.power_levels): a level under `key`
// ("kick", "ban", "redact", "state_default"…) or `fallback`; a user's level; the level
// sending state of `type` needs.
// `key` is a std::string: a user id is a JSON key compared in full, never cut at a NUL.
int64_t levelOf(const nlohmann::json& content, const std::string& key, int64_t fallback);
int64_t userPowerLevel(const nlohmann::json& content, const UserId& user);
int64_t stateEventPowerLevel(const nlohmann::json& content, const std::string& type);

// Ok when `user` may manage the bridges of `room`, else the error to show them.
Result<void> checkRoomManagePower(const PowerLevelsFetch& fetch, const UserId& user, const RoomId& room,
                                  Logger& log);

}  // namespace mxbridge::detail
