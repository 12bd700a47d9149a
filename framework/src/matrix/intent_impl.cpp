#include "matrix/intent_impl.h"

#include "journal/hook_stage.h"

namespace mxbridge::detail {

namespace {

using nlohmann::json;

const char* msgtypeFor(MessageKind kind) {
    switch (kind) {
        case MessageKind::Text: return "m.text";
        case MessageKind::Notice: return "m.notice";
        case MessageKind::Emote: return "m.emote";
        case MessageKind::Image: return "m.image";
        case MessageKind::File: return "m.file";
        case MessageKind::Audio: return "m.audio";
        case MessageKind::Video: return "m.video";
        // m.location needs a geo_uri the bridge does not give; the text is sent instead.
        case MessageKind::Location: return "m.text";
        case MessageKind::Sticker: return "m.sticker";
    }
    return "m.text";
}

// The plain content of a message: msgtype, body, HTML, attachment.
json baseContent(const OutgoingMessage& m) {
    json c = json::object();
    if (m.kind != MessageKind::Sticker) c["msgtype"] = msgtypeFor(m.kind);
    c["body"] = m.body;
    if (m.html) {
        c["format"] = "org.matrix.custom.html";
        c["formatted_body"] = *m.html;
    }
    if (m.media) {
        c["url"] = m.media->mxcUrl;
        json info = json::object();
        if (!m.media->mimeType.empty()) info["mimetype"] = m.media->mimeType;
        if (m.media->size > 0) info["size"] = m.media->size;
        c["info"] = info;
        if (m.body.empty()) c["body"] = m.media->fileName;
        else if (!m.media->fileName.empty() && m.media->fileName != m.body) c["filename"] = m.media->fileName;
    }
    return c;
}

}  // namespace

json messageContent(const OutgoingMessage& m) {
    json base = baseContent(m);
    if (m.replaces) {
        // Clients without edit support show the fallback: the new text marked with "* ".
        json c = base;
        c["body"] = "* " + base.value("body", std::string());
        if (base.contains("formatted_body")) c["formatted_body"] = "* " + base["formatted_body"].get<std::string>();
        c["m.new_content"] = base;
        c["m.relates_to"] = json{{"rel_type", "m.replace"}, {"event_id", m.replaces->str()}};
        return c;
    }
    if (m.replyTo) base["m.relates_to"] = json{{"m.in_reply_to", {{"event_id", m.replyTo->str()}}}};
    return base;
}

json bridgeStateEvents(const BridgeStateInfo& info, const UserId& bot) {
    // MSC2346: one event per bridged remote room, keyed by bridge and room.
    json content{{"bridgebot", bot.str()},
                 {"creator", (info.creator ? *info.creator : bot).str()},
                 {"protocol", {{"id", info.protocolId}, {"displayname", info.protocolName}}},
                 {"channel", {{"id", info.remoteRoom.str()},
                              {"displayname", info.channelName.empty() ? info.remoteRoom.str() : info.channelName}}}};
    const std::string key = "mxbridge://" + info.bridgeName + "/" + info.remoteRoom.str();
    json events = json::array();
    for (const char* type : {"m.bridge", "uk.half-shot.bridge"})
        events.push_back(json{{"type", type}, {"state_key", key}, {"content", content}});
    return events;
}

void IntentImpl::roomRequest(const RoomId& room, std::string kind, json payload) {
    payload["room_id"] = room.str();
    outbox_.enqueue(OutboxRequest{room.str(), user_, std::move(kind), std::move(payload), {}});
}

void IntentImpl::sendMessage(const RoomId& room, const OutgoingMessage& message,
                             const RemoteMessageId& remoteId) {
    sendMessage(room, message, RemoteRoomId(), remoteId);
}

void IntentImpl::sendMessage(const RoomId& room, const OutgoingMessage& message,
                             const RemoteRoomId& remoteRoom, const RemoteMessageId& remoteId) {
    json p{{"type", message.kind == MessageKind::Sticker ? "m.sticker" : "m.room.message"},
           {"content", messageContent(message)}};
    if (message.timestampMs) p["ts"] = *message.timestampMs;
    if (!remoteRoom.empty()) p["remote_room"] = remoteRoom.str();
    if (!remoteId.empty()) p["remote_id"] = remoteId.str();
    roomRequest(room, "send", std::move(p));
}

void IntentImpl::sendReaction(const RoomId& room, const EventId& target, const std::string& key,
                              const RemoteMessageId& remoteId) {
    json p{{"type", "m.reaction"},
           {"content", {{"m.relates_to", {{"rel_type", "m.annotation"}, {"event_id", target.str()}, {"key", key}}}}}};
    if (!remoteId.empty()) p["remote_id"] = remoteId.str();
    roomRequest(room, "send", std::move(p));
}

void IntentImpl::redact(const RoomId& room, const EventId& target, const std::string& reason) {
    roomRequest(room, "redact", json{{"event_id", target.str()}, {"reason", reason}});
}

void IntentImpl::sendState(const RoomId& room, const std::string& type, const std::string& stateKey,
                           const json& content) {
    roomRequest(room, "state", json{{"type", type}, {"state_key", stateKey}, {"content", content}});
}

void IntentImpl::join(const RoomId& room) { roomRequest(room, "join", json::object()); }

void IntentImpl::leave(const RoomId& room, const std::string& reason) {
    roomRequest(room, "leave", json{{"reason", reason}});
}

void IntentImpl::invite(const RoomId& room, const UserId& user) {
    roomRequest(room, "invite", json{{"user_id", user.str()}});
}

void IntentImpl::kick(const RoomId& room, const UserId& user, const std::string& reason) {
    roomRequest(room, "kick", json{{"user_id", user.str()}, {"reason", reason}});
}

void IntentImpl::ban(const RoomId& room, const UserId& user, const std::string& reason) {
    roomRequest(room, "ban", json{{"user_id", user.str()}, {"reason", reason}});
}

void IntentImpl::setRoomName(const RoomId& room, const std::string& name) {
    sendState(room, "m.room.name", "", json{{"name", name}});
}

void IntentImpl::setTopic(const RoomId& room, const std::string& topic) {
    sendState(room, "m.room.topic", "", json{{"topic", topic}});
}

void IntentImpl::setPowerLevels(const RoomId& room, const std::map<UserId, int>& levels) {
    json users = json::object();
    for (const auto& [user, level] : levels) users[user.str()] = level;
    roomRequest(room, "power_levels", json{{"users", users}});
}

void IntentImpl::setRoomAlias(const std::string& aliasLocalpart, const RoomId& room) {
    std::string server(serverOf(user_.str()));
    roomRequest(room, "alias", json{{"alias", "#" + aliasLocalpart + ":" + server}});
}

void IntentImpl::publishInDirectory(const RoomId& room, bool visible) {
    roomRequest(room, "directory", json{{"visible", visible}});
}

void IntentImpl::setProfile(const std::string& field, const std::string& value) {
    if (outbox_.profileValue(user_, field) == value) return;
    OutboxRequest request{"profile:" + user_.str(), user_, field, json{{"value", value}}, {}};
    // Inside a hook the request may be discarded with the hook's writes (a retried hook), so
    // it counts as requested only once committed; outside, it is committed for sure.
    if (currentHookStage()) {
        request.onQueued = [this, field, value] { outbox_.noteProfileRequested(user_, field, value); };
    } else {
        outbox_.noteProfileRequested(user_, field, value);
    }
    outbox_.enqueue(std::move(request));
}

void IntentImpl::setDisplayName(const std::string& name) { setProfile("displayname", name); }
void IntentImpl::setAvatarUrl(const std::string& mxcUrl) { setProfile("avatar_url", mxcUrl); }

void IntentImpl::setTyping(const RoomId& room, bool typing, std::chrono::milliseconds timeout) {
    outbox_.enqueueTransient(OutboxRequest{room.str(), user_, "typing",
                                           json{{"room_id", room.str()}, {"typing", typing},
                                                {"timeout", timeout.count()}}, {}},
                             true);
}

void IntentImpl::markRead(const RoomId& room, const EventId& event) {
    outbox_.enqueueTransient(OutboxRequest{room.str(), user_, "receipt",
                                           json{{"room_id", room.str()}, {"event_id", event.str()}}, {}},
                             true);
}

void IntentImpl::setPresence(const std::string& presence, const std::string& statusMessage) {
    outbox_.enqueueTransient(OutboxRequest{"presence:" + user_.str(), user_, "presence",
                                           json{{"presence", presence}, {"status_msg", statusMessage}}, {}},
                             true);
}

void IntentImpl::createRoom(const RoomCreation& creation, std::function<void(Result<RoomId>)> done) {
    create(creation, nullptr, std::move(done));
}

void IntentImpl::createPortalRoom(const RoomCreation& creation, const BridgeStateInfo& info,
                                  std::function<void(Result<RoomId>)> done) {
    create(creation, &info, std::move(done));
}

void IntentImpl::create(const RoomCreation& c, const BridgeStateInfo* info,
                        std::function<void(Result<RoomId>)> done) {
    const UserId& bot = outbox_.botUser();
    json body{{"preset", c.isPublic ? "public_chat" : "private_chat"}, {"visibility", "private"}};
    if (!c.name.empty()) body["name"] = c.name;
    if (!c.topic.empty()) body["topic"] = c.topic;
    if (!c.aliasLocalpart.empty()) body["room_alias_name"] = c.aliasLocalpart;
    if (c.isDirect) body["is_direct"] = true;
    json invite = json::array();
    for (const auto& u : c.invite) invite.push_back(u.str());
    // A ghost's room still needs the bot in it, to invite other ghosts later; but not a
    // private chat, which clients would then list as a chat with the bot. There the bot joins
    // only when it must (the outbox has the ghost invite it), with the power granted below.
    if (user_ != bot && !c.isDirect && std::find(c.invite.begin(), c.invite.end(), bot) == c.invite.end())
        invite.push_back(bot.str());
    if (!invite.empty()) body["invite"] = invite;
    json state = json::array();
    if (info) state = bridgeStateEvents(*info, bot);
    for (const auto& [type, key, content] : c.initialState)
        state.push_back(json{{"type", type}, {"state_key", key}, {"content", content}});
    if (!state.empty()) body["initial_state"] = state;
    // Replaces the default "users" map, so the creator is listed too.
    body["power_level_content_override"] = json{{"users", {{bot.str(), 100}, {user_.str(), 100}}}};
    // Rooms for different aliases are created side by side: one queue per user made alias
    // queries for different rooms wait for each other's createRoom (issue 9, item 22).
    std::string queueKey = "create:" + user_.str();
    if (!c.aliasLocalpart.empty()) queueKey += "#" + c.aliasLocalpart;
    outbox_.enqueueTransient(
        OutboxRequest{queueKey, user_, "create_room", json{{"body", body}}, {}}, false,
        [done = std::move(done)](Result<json> r) {
            if (!done) return;
            if (!r.ok()) return done(r.error());
            done(RoomId(r->value("room_id", "")));
        });
}

void IntentImpl::uploadMedia(const std::string& bytes, const std::string& mimeType,
                             const std::string& fileName, std::function<void(Result<std::string>)> done) {
    outbox_.enqueueTransient(
        OutboxRequest{"media:" + user_.str(), user_, "upload", json{{"mimetype", mimeType}, {"filename", fileName}}, {}},
        false,
        [done = std::move(done)](Result<json> r) {
            if (!done) return;
            if (!r.ok()) return done(r.error());
            done(r->value("content_uri", ""));
        },
        std::make_shared<const std::string>(bytes));
}

void IntentImpl::downloadMedia(const std::string& mxcUrl, std::function<void(Result<std::string>)> done) {
    outbox_.enqueueTransient(
        OutboxRequest{"media:" + user_.str(), user_, "download", json{{"mxc", mxcUrl}}, {}}, false,
        [done = std::move(done)](Result<json> r) {
            if (!done) return;
            if (!r.ok()) return done(r.error());
            done(r->is_string() ? r->get<std::string>() : std::string());
        });
}

}  // namespace mxbridge::detail
