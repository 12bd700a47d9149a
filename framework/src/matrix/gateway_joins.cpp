#include "matrix/gateway_joins.h"

#include <algorithm>

#include <boost/asio/post.hpp>

namespace mxbridge::detail {

namespace {

const std::string kClient = "/_matrix/client/v3";

// The homeserver's refusal as an Error: its errcode is the code the bridge maps (M_NOT_FOUND
// to "no such room", M_FORBIDDEN to "not allowed"); no answer at all is worth asking again.
Error errorOf(const HsResponse& r, const std::string& what) {
    if (r.status == 0 || r.status >= 500)
        return Error::transient("homeserver_unreachable", what + ": the homeserver did not answer (" + r.error() + ")");
    std::string code = r.errcode().empty() ? "http_" + std::to_string(r.status) : r.errcode();
    return Error::permanent(std::move(code), what + ": " + r.error());
}

// A state event's one string field, or empty when the room has none (404) or it is no string.
std::string stateText(HomeserverClient& hs, const std::string& room, const std::string& type,
                      const std::string& field, const std::string& asUser) {
    HsResponse r = hs.call("GET", kClient + "/rooms/" + urlEncode(room) + "/state/" + type + "/", std::nullopt, asUser);
    if (!r.ok() || !r.body.is_object()) return {};
    auto it = r.body.find(field);
    return it != r.body.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

GatewayJoins::GatewayJoins(HomeserverClient& hs, std::function<bool(const RoomAlias&)> isOwnAlias,
                           std::function<bool(const UserId&)> isGhost)
    : hs_(hs), isOwnAlias_(std::move(isOwnAlias)), isGhost_(std::move(isGhost)) {}

GatewayJoins::~GatewayJoins() { stop(); }

void GatewayJoins::stop() {
    stopping_ = true;
    pool_.join();
}

void GatewayJoins::resolveAlias(const RoomAlias& alias, std::function<void(Result<RoomId>)> done) {
    boost::asio::post(pool_, [this, alias, done = std::move(done)] {
        if (stopping_) return done(Error::transient("stopping", "the bridge is stopping"));
        done(resolve(alias));
    });
}

void GatewayJoins::joinRoomAs(const UserId& ghost, const RoomAlias& alias, std::size_t historyLines,
                              std::function<void(Result<JoinedRoom>)> done) {
    boost::asio::post(pool_, [this, ghost, alias, historyLines, done = std::move(done)] {
        if (stopping_) return done(Error::transient("stopping", "the bridge is stopping"));
        if (!isGhost_(ghost)) return done(Error::permanent("not_a_ghost", ghost.str() + " is not one of the bridge's users"));
        done(join(ghost, alias, historyLines));
    });
}

std::optional<Error> GatewayJoins::refusal(const RoomAlias& alias) const {
    if (!isValidRoomAlias(alias.str())) return Error::permanent("M_INVALID_PARAM", alias.str() + " is no room alias");
    // A gateway into the bridge's own portal would carry the network's room back to itself.
    if (isOwnAlias_(alias))
        return Error::permanent("own_portal", alias.str() + " is a portal of this bridge: join the room on its network");
    return std::nullopt;
}

Result<RoomId> GatewayJoins::resolve(const RoomAlias& alias) {
    if (auto refused = refusal(alias)) return *refused;
    HsResponse r = hs_.call("GET", kClient + "/directory/room/" + urlEncode(alias.str()));
    if (!r.ok()) return errorOf(r, "looking up " + alias.str());
    std::string room = r.body.is_object() ? r.body.value("room_id", "") : "";
    if (room.empty()) return Error::permanent("M_NOT_FOUND", alias.str() + " names no room");
    return RoomId(room);
}

Result<JoinedRoom> GatewayJoins::join(const UserId& ghost, const RoomAlias& alias, std::size_t historyLines) {
    if (auto refused = refusal(alias)) return *refused;
    // The ghost may be new: registered first, as the outbox does before its requests.
    HsResponse reg = hs_.call("POST", kClient + "/register",
                              nlohmann::json{{"type", "m.login.application_service"},
                                             {"username", std::string(localpartOf(ghost.str()))},
                                             {"inhibit_login", true}});
    if (!reg.ok() && reg.errcode() != "M_USER_IN_USE") return errorOf(reg, "registering " + ghost.str());
    HsResponse joined = hs_.call("POST", kClient + "/join/" + urlEncode(alias.str()), nlohmann::json::object(), ghost.str());
    if (!joined.ok()) return errorOf(joined, ghost.str() + " joining " + alias.str());
    std::string roomId = joined.body.is_object() ? joined.body.value("room_id", "") : "";
    if (roomId.empty()) return Error::transient("M_UNKNOWN", "the homeserver named no room for " + alias.str());
    JoinedRoom room{.room = RoomId(roomId), .name = {}, .topic = {}, .members = {}, .history = {}};
    HsResponse members =
        hs_.call("GET", kClient + "/rooms/" + urlEncode(roomId) + "/joined_members", std::nullopt, ghost.str());
    if (!members.ok()) return errorOf(members, "reading who is in " + alias.str());
    if (members.body.is_object() && members.body.contains("joined") && members.body["joined"].is_object()) {
        for (const auto& [user, info] : members.body["joined"].items()) {
            std::string name;
            if (info.is_object() && info.contains("display_name") && info["display_name"].is_string())
                name = info["display_name"].get<std::string>();
            room.members.push_back({.user = UserId(user), .displayName = std::move(name)});
        }
    }
    room.name = stateText(hs_, roomId, "m.room.name", "name", ghost.str());
    room.topic = stateText(hs_, roomId, "m.room.topic", "topic", ghost.str());
    if (historyLines > 0) room.history = history(ghost, roomId, historyLines);
    return room;
}

std::vector<JoinedRoom::Line> GatewayJoins::history(const UserId& ghost, const std::string& room, std::size_t lines) {
    // One page back from the end, as the ghost: the homeserver hides what the room's history
    // visibility does not let a newcomer see. Members and other state take room in the page,
    // so it asks for more events than lines; a history that is not there is no failure.
    const std::size_t events = std::min<std::size_t>(lines * 4, 200);
    HsResponse r = hs_.call("GET", kClient + "/rooms/" + urlEncode(room) + "/messages", std::nullopt, ghost.str(),
                            {{"dir", "b"}, {"limit", std::to_string(events)}});
    std::vector<JoinedRoom::Line> found;
    if (!r.ok() || !r.body.is_object() || !r.body.contains("chunk") || !r.body["chunk"].is_array()) return found;
    for (const auto& event : r.body["chunk"]) {  // newest first
        if (found.size() == lines) break;
        if (!event.is_object() || event.value("type", "") != "m.room.message") continue;
        const auto& content = event.value("content", nlohmann::json::object());
        std::string msgtype = content.is_object() ? content.value("msgtype", "") : "";
        if (msgtype != "m.text" && msgtype != "m.notice" && msgtype != "m.emote") continue;
        if (!content.contains("body") || !content["body"].is_string()) continue;
        if (content.contains("m.relates_to") && content["m.relates_to"].is_object() &&
            content["m.relates_to"].value("rel_type", "") == "m.replace")
            continue;  // an edit: the line it edits is shown as it was sent
        JoinedRoom::Line line{.event = EventId(event.value("event_id", "")),
                              .sender = UserId(event.value("sender", "")),
                              .body = content["body"].get<std::string>(),
                              .html = std::nullopt,
                              .timestampMs = event.value("origin_server_ts", std::int64_t{0})};
        if (msgtype != "m.emote" && content.value("format", "") == "org.matrix.custom.html" &&
            content.contains("formatted_body") &&
            content["formatted_body"].is_string())
            line.html = content["formatted_body"].get<std::string>();
        if (msgtype == "m.emote") line.body = "/me " + line.body;
        found.push_back(std::move(line));
    }
    std::reverse(found.begin(), found.end());
    return found;
}

}  // namespace mxbridge::detail
