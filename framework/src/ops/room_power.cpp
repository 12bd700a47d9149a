#include "ops/room_power.h"

#include <string>

namespace mxbridge::detail {

using nlohmann::json;

// Power levels are integers, but old rooms hold strings ("50"); anything else is the default.
int64_t levelOf(const json& content, const char* key, int64_t fallback) {
    if (!content.is_object() || !content.contains(key)) return fallback;
    const json& v = content[key];
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
        level = levelOf(content["users"], user.str().c_str(), level);
    return level;
}

int64_t stateEventPowerLevel(const json& content, const std::string& type) {
    int64_t level = levelOf(content, "state_default", 50);
    if (content.is_object() && content.contains("events")) level = levelOf(content["events"], type.c_str(), level);
    return level;
}

bool looksLikeRoomId(std::string_view s) {
    return s.size() > 3 && s[0] == '!' && s.find(':') != std::string_view::npos;
}

Result<void> checkRoomManagePower(const PowerLevelsFetch& fetch, const UserId& user, const RoomId& room,
                                  Logger& log) {
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
