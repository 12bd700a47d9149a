// The JSON shape of RemoteEvents and RoomCreations kept while a portal is created. Field
// names follow the structs; an absent key is std::nullopt, so "unchanged" stays unchanged.
#include "bridge/remote_event_json.h"

#include <array>
#include <stdexcept>

namespace mxbridge::detail {
namespace {

using nlohmann::json;

constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string toBase64(const std::string& bytes) {
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    for (size_t i = 0; i < bytes.size(); i += 3) {
        uint32_t n = static_cast<uint8_t>(bytes[i]) << 16;
        if (i + 1 < bytes.size()) n |= static_cast<uint8_t>(bytes[i + 1]) << 8;
        if (i + 2 < bytes.size()) n |= static_cast<uint8_t>(bytes[i + 2]);
        out += kBase64[(n >> 18) & 63];
        out += kBase64[(n >> 12) & 63];
        out += i + 1 < bytes.size() ? kBase64[(n >> 6) & 63] : '=';
        out += i + 2 < bytes.size() ? kBase64[n & 63] : '=';
    }
    return out;
}

std::string fromBase64(const std::string& text) {
    std::array<int, 256> value{};
    value.fill(-1);
    for (int i = 0; i < 64; ++i) value[static_cast<uint8_t>(kBase64[i])] = i;
    std::string out;
    uint32_t n = 0;
    int bits = 0;
    for (char c : text) {
        if (c == '=') break;
        int v = value[static_cast<uint8_t>(c)];
        if (v < 0) throw std::runtime_error("media bytes are not base64");
        n = (n << 6) | static_cast<uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((n >> bits) & 0xff);
        }
    }
    return out;
}

template <class T>
void putOptional(json& j, const char* key, const std::optional<T>& value) {
    if (value) j[key] = *value;
}

template <class T>
std::optional<T> getOptional(const json& j, const char* key) {
    if (!j.contains(key) || j[key].is_null()) return std::nullopt;
    return j[key].get<T>();
}

json senderToJson(const RemoteSender& s) {
    json j{{"id", s.id.str()}, {"ghost_id", s.ghostId}};
    putOptional(j, "display_name", s.displayName);
    putOptional(j, "avatar_mxc", s.avatarMxc);
    return j;
}

RemoteSender senderFromJson(const json& j) {
    return RemoteSender{
        .id = RemoteUserId(j.at("id").get<std::string>()),
        .ghostId = j.at("ghost_id").get<std::string>(),
        .displayName = getOptional<std::string>(j, "display_name"),
        .avatarMxc = getOptional<std::string>(j, "avatar_mxc"),
    };
}

json portalToJson(const PortalInfo& p) {
    json j{{"id", p.id.str()},         {"name", p.name},
           {"topic", p.topic},         {"alias_id", p.aliasId},
           {"is_public", p.isPublic},  {"create_if_missing", p.createIfMissing}};
    if (p.directWith) j["direct_with"] = p.directWith->str();
    if (!p.invite.empty()) {
        json invite = json::array();
        for (const UserId& user : p.invite) invite.push_back(user.str());
        j["invite"] = invite;
    }
    return j;
}

PortalInfo portalFromJson(const json& j) {
    std::optional<std::string> direct = getOptional<std::string>(j, "direct_with");
    std::vector<UserId> invite;
    if (auto it = j.find("invite"); it != j.end())
        for (const json& user : *it) invite.emplace_back(user.get<std::string>());
    return PortalInfo{
        .id = RemoteRoomId(j.at("id").get<std::string>()),
        .name = j.at("name").get<std::string>(),
        .topic = j.at("topic").get<std::string>(),
        .aliasId = j.at("alias_id").get<std::string>(),
        .isPublic = j.at("is_public").get<bool>(),
        .createIfMissing = j.at("create_if_missing").get<bool>(),
        .directWith = direct ? std::optional(UserId(*direct)) : std::nullopt,
        .invite = std::move(invite),
    };
}

template <class... F>
struct Overloaded : F... {
    using F::operator()...;
};

json bodyOf(const RemoteEvent& event) {
    return std::visit(
        Overloaded{
            [](const RemoteMessage& m) {
                json j{{"portal", portalToJson(m.portal)}, {"sender", senderToJson(m.sender)},
                       {"id", m.id.str()}, {"kind", static_cast<int>(m.kind)}, {"body", m.body}};
                putOptional(j, "html", m.html);
                if (m.replyTo) j["reply_to"] = m.replyTo->str();
                if (m.media)
                    j["media"] = {{"bytes", toBase64(m.media->bytes)},
                                  {"mime_type", m.media->mimeType},
                                  {"file_name", m.media->fileName}};
                putOptional(j, "timestamp_ms", m.timestampMs);
                return j;
            },
            [](const RemoteEdit& e) {
                json j{{"room", e.room.str()}, {"sender", senderToJson(e.sender)},
                       {"target", e.target.str()}, {"new_body", e.newBody}};
                putOptional(j, "new_html", e.newHtml);
                return j;
            },
            [](const RemoteRedaction& e) {
                return json{{"room", e.room.str()}, {"sender", senderToJson(e.sender)},
                            {"target", e.target.str()}, {"reason", e.reason}};
            },
            [](const RemoteReaction& e) {
                return json{{"room", e.room.str()}, {"sender", senderToJson(e.sender)},
                            {"target", e.target.str()}, {"id", e.id.str()},
                            {"key", e.key},  {"removed", e.removed}};
            },
            [](const RemoteMembership& e) {
                json j{{"room", e.room.str()}, {"user", senderToJson(e.user)},
                       {"change", static_cast<int>(e.change)}, {"reason", e.reason}};
                if (e.actor) j["actor"] = senderToJson(*e.actor);
                return j;
            },
            [](const RemoteRoomUpdate& e) {
                json j{{"room", e.room.str()}};
                if (e.actor) j["actor"] = senderToJson(*e.actor);
                putOptional(j, "name", e.name);
                putOptional(j, "topic", e.topic);
                return j;
            },
            [](const RemotePowerLevels& e) {
                json levels = json::array();
                for (const auto& [sender, level] : e.levels)
                    levels.push_back({{"sender", senderToJson(sender)}, {"level", level}});
                return json{{"room", e.room.str()}, {"levels", levels}};
            },
            [](const RemoteTyping& e) {
                return json{{"room", e.room.str()}, {"sender", senderToJson(e.sender)},
                            {"typing", e.typing}};
            },
            [](const RemoteProfile& e) { return json{{"sender", senderToJson(e.sender)}}; },
        },
        event);
}

std::optional<RemoteSender> optionalSender(const json& j, const char* key) {
    if (!j.contains(key)) return std::nullopt;
    return senderFromJson(j[key]);
}

RemoteEvent eventOf(const std::string& type, const json& j) {
    if (type == "message") {
        std::optional<RemoteMedia> media;
        if (j.contains("media")) {
            const json& m = j["media"];
            media = RemoteMedia{.bytes = fromBase64(m.at("bytes").get<std::string>()),
                                .mimeType = m.at("mime_type").get<std::string>(),
                                .fileName = m.at("file_name").get<std::string>()};
        }
        std::optional<std::string> replyTo = getOptional<std::string>(j, "reply_to");
        return RemoteMessage{
            .portal = portalFromJson(j.at("portal")),
            .sender = senderFromJson(j.at("sender")),
            .id = RemoteMessageId(j.at("id").get<std::string>()),
            .kind = static_cast<MessageKind>(j.at("kind").get<int>()),
            .body = j.at("body").get<std::string>(),
            .html = getOptional<std::string>(j, "html"),
            .replyTo = replyTo ? std::optional(RemoteMessageId(*replyTo)) : std::nullopt,
            .media = std::move(media),
            .timestampMs = getOptional<int64_t>(j, "timestamp_ms"),
        };
    }
    if (type == "edit")
        return RemoteEdit{.room = RemoteRoomId(j.at("room").get<std::string>()),
                          .sender = senderFromJson(j.at("sender")),
                          .target = RemoteMessageId(j.at("target").get<std::string>()),
                          .newBody = j.at("new_body").get<std::string>(),
                          .newHtml = getOptional<std::string>(j, "new_html")};
    if (type == "redaction")
        return RemoteRedaction{.room = RemoteRoomId(j.at("room").get<std::string>()),
                               .sender = senderFromJson(j.at("sender")),
                               .target = RemoteMessageId(j.at("target").get<std::string>()),
                               .reason = j.at("reason").get<std::string>()};
    if (type == "reaction")
        return RemoteReaction{.room = RemoteRoomId(j.at("room").get<std::string>()),
                              .sender = senderFromJson(j.at("sender")),
                              .target = RemoteMessageId(j.at("target").get<std::string>()),
                              .id = RemoteMessageId(j.at("id").get<std::string>()),
                              .key = j.at("key").get<std::string>(),
                              .removed = j.at("removed").get<bool>()};
    if (type == "membership")
        return RemoteMembership{.room = RemoteRoomId(j.at("room").get<std::string>()),
                                .user = senderFromJson(j.at("user")),
                                .change = static_cast<RemoteMembership::Change>(j.at("change").get<int>()),
                                .actor = optionalSender(j, "actor"),
                                .reason = j.at("reason").get<std::string>()};
    if (type == "room_update")
        return RemoteRoomUpdate{.room = RemoteRoomId(j.at("room").get<std::string>()),
                                .actor = optionalSender(j, "actor"),
                                .name = getOptional<std::string>(j, "name"),
                                .topic = getOptional<std::string>(j, "topic")};
    if (type == "power_levels") {
        RemotePowerLevels e{.room = RemoteRoomId(j.at("room").get<std::string>()), .levels = {}};
        for (const json& level : j.at("levels"))
            e.levels.emplace_back(senderFromJson(level.at("sender")), level.at("level").get<int>());
        return e;
    }
    if (type == "typing")
        return RemoteTyping{.room = RemoteRoomId(j.at("room").get<std::string>()),
                            .sender = senderFromJson(j.at("sender")),
                            .typing = j.at("typing").get<bool>()};
    if (type == "profile") return RemoteProfile{.sender = senderFromJson(j.at("sender"))};
    throw std::runtime_error("unknown remote event type: " + type);
}

}  // namespace

json remoteEventToJson(const RemoteEvent& event) {
    return json{{"type", kRemoteEventTypes[event.index()]}, {"event", bodyOf(event)}};
}

RemoteEvent remoteEventFromJson(const json& j) {
    return eventOf(j.at("type").get<std::string>(), j.at("event"));
}

json roomCreationToJson(const RoomCreation& c) {
    json invite = json::array();
    for (const UserId& user : c.invite) invite.push_back(user.str());
    json state = json::array();
    for (const auto& [type, key, content] : c.initialState) state.push_back({type, key, content});
    return json{{"name", c.name},          {"topic", c.topic},       {"alias_localpart", c.aliasLocalpart},
                {"is_public", c.isPublic}, {"is_direct", c.isDirect}, {"invite", invite},
                {"initial_state", state}};
}

RoomCreation roomCreationFromJson(const json& j) {
    RoomCreation c{
        .name = j.at("name").get<std::string>(),
        .topic = j.at("topic").get<std::string>(),
        .aliasLocalpart = j.at("alias_localpart").get<std::string>(),
        .isPublic = j.at("is_public").get<bool>(),
        .isDirect = j.at("is_direct").get<bool>(),
        .invite = {},
        .initialState = {},
    };
    for (const json& user : j.at("invite")) c.invite.emplace_back(user.get<std::string>());
    for (const json& s : j.at("initial_state"))
        c.initialState.emplace_back(s.at(0).get<std::string>(), s.at(1).get<std::string>(), s.at(2));
    return c;
}

}  // namespace mxbridge::detail
