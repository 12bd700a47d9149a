#include "ops/room_power.h"

#include <string>

namespace mxbridge::detail {

using nlohmann::json;

// Power levels are integers, but old rooms hold strings ("50"); anything else is the default.
// `key` is a std::string: a user id is a JSON key compared in full, never cut at a NUL.
int64_t levelOf(const json& content, const std::string& key, int64_t fallback) {
    if (!content.is_object()) return fallback;
    auto found = content.find(key);
    if (found == content.end()) return fallback;
    const json& v = *found;
    if (v.is_number()) return v.get<int64_t>();
    if (v.is_string()) {
        try {
            return std::stoll(v.get<std::string>());
        } catch (...) {
        }
    }
    return fallback;
}

int64_t userPowerLevel(const json& content, const UserId& user) {
    int64_t level = levelOf(content, "users_default", 0);
    if (content.is_object() && content.contains("users"))
        level = levelOf(content["users"], user.str(), level);
    return level;
}

int64_t stateEventPowerLevel(const json& content, const std::string& type) {
    int64_t level = levelOf(content, "state_default", 50);
    if (content.is_object() && content.contains("events")) level = levelOf(content["events"], type, level);
    return level;
}

Result<void> checkRoomManagePower(const PowerLevelsFetch& fetch, const UserId& user, const RoomId& room,
                                  Logger& log) {
    // Callers check ids from outside first; this guard keeps a malformed one from ever
    // being looked up (or sent to the homeserver) should a new caller forget.
    if (!isValidUserId(user.str()) || !isValidRoomId(room.str()))
        return Error::permanent("M_INVALID_PARAM", "not a valid Matrix user id and room id");
    std::optional<json> levels;
    try {
        levels = fetch ? fetch(room) : std::nullopt;
    } catch (const std::exception& e) {
        log.warn("cannot read power levels", {{"room", room.str()}, {"error", e.what()}});
        return Error::transient("M_UNKNOWN", "Cannot read the power levels of " + room.str() +
                                                 " from the homeserver now; retry later");
    }
    if (!levels) {
        return Error::permanent("M_FORBIDDEN", "Cannot read the power levels of " + room.str() +
                                                   "; invite the bridge bot to the room first");
    }
    const json& content = levels->contains("content") && (*levels)["content"].is_object()
                              ? (*levels)["content"] : *levels;
    int64_t needed = levelOf(content, "state_default", 50);
    int64_t has = userPowerLevel(content, user);
    if (has < needed) {
        return Error::permanent("M_FORBIDDEN", user.str() + " has power level " + std::to_string(has) +
                                                   " in " + room.str() + "; managing its bridges needs " +
                                                   std::to_string(needed) + " (the room's state_default)");
    }
    return {};
}

}  // namespace mxbridge::detail
