// The typed room changes of MatrixStateChange (matrix_events.h), read from state events.
#include <charconv>
#include <set>

#include "mxbridge/matrix_events.h"

namespace mxbridge {

namespace {

using nlohmann::json;

std::string stringField(const json& content, const char* key) {
    auto it = content.find(key);
    return it != content.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// A power level: an integer, or (rooms before version 10 allow it) a string holding one.
std::optional<int64_t> levelValue(const json& value) {
    if (value.is_number_integer()) return value.get<int64_t>();
    if (value.is_number_unsigned()) return static_cast<int64_t>(std::min<uint64_t>(value.get<uint64_t>(), INT64_MAX));
    if (!value.is_string()) return std::nullopt;
    const std::string& text = value.get_ref<const std::string&>();
    int64_t level = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), level);
    if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return level;
}

void readLevel(const json& content, const char* key, int64_t& into) {
    auto it = content.find(key);
    if (it == content.end()) return;
    if (auto level = levelValue(*it)) into = *level;
}

template <typename Key>
void readLevelMap(const json& content, const char* key, std::map<Key, int64_t>& into) {
    auto it = content.find(key);
    if (it == content.end() || !it->is_object()) return;
    for (const auto& [name, value] : it->items())
        if (auto level = levelValue(value)) into[Key(name)] = *level;
}

const json& prevContent(const MatrixEvent& event) {
    static const json kEmpty = json::object();
    auto u = event.json().find("unsigned");
    if (u == event.json().end() || !u->is_object()) return kEmpty;
    auto prev = u->find("prev_content");
    return prev != u->end() && prev->is_object() ? *prev : kEmpty;
}

}  // namespace

std::vector<UserId> PowerLevels::usersChangedSince(const PowerLevels& before) const {
    std::set<UserId> named;
    for (const auto& [user, level] : users) named.insert(user);
    for (const auto& [user, level] : before.users) named.insert(user);
    std::vector<UserId> changed;
    for (const UserId& user : named)
        if (levelOf(user) != before.levelOf(user)) changed.push_back(user);
    return changed;
}

PowerLevels readPowerLevels(const json& content) {
    PowerLevels levels;
    if (!content.is_object()) return levels;
    readLevel(content, "users_default", levels.usersDefault);
    readLevel(content, "events_default", levels.eventsDefault);
    readLevel(content, "state_default", levels.stateDefault);
    readLevel(content, "ban", levels.ban);
    readLevel(content, "kick", levels.kick);
    readLevel(content, "redact", levels.redact);
    readLevel(content, "invite", levels.invite);
    readLevelMap(content, "users", levels.users);
    readLevelMap(content, "events", levels.events);
    return levels;
}

void readRoomChange(MatrixStateChange& change) {
    if (!change.stateKey.empty()) return;  // these room states all have the empty state key
    const json& content = change.event.content();
    if (!content.is_object()) return;
    if (change.type == "m.room.name") change.name = RoomNameChange{stringField(content, "name")};
    else if (change.type == "m.room.topic") change.topic = RoomTopicChange{stringField(content, "topic")};
    else if (change.type == "m.room.avatar") change.avatar = RoomAvatarChange{stringField(content, "url")};
    else if (change.type == "m.room.join_rules") change.joinRule = JoinRuleChange{stringField(content, "join_rule")};
    else if (change.type == "m.room.power_levels")
        change.powerLevels = PowerLevelsChange{.levels = readPowerLevels(content),
                                               .previous = readPowerLevels(prevContent(change.event))};
}

}  // namespace mxbridge
