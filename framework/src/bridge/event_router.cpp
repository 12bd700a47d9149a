#include "bridge/event_router.h"

#include "mxbridge/format/reply_fallback.h"

namespace mxbridge::detail {

namespace {

using nlohmann::json;

std::string str(const json& object, const char* key) {
    auto it = object.find(key);
    return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

const json& obj(const json& object, const char* key) {
    static const json kEmpty = json::object();
    auto it = object.find(key);
    return it != object.end() && it->is_object() ? *it : kEmpty;
}

MessageKind kindOf(const std::string& type, const std::string& msgtype) {
    if (type == "m.sticker") return MessageKind::Sticker;
    if (msgtype == "m.notice") return MessageKind::Notice;
    if (msgtype == "m.emote") return MessageKind::Emote;
    if (msgtype == "m.image") return MessageKind::Image;
    if (msgtype == "m.file") return MessageKind::File;
    if (msgtype == "m.audio") return MessageKind::Audio;
    if (msgtype == "m.video") return MessageKind::Video;
    if (msgtype == "m.location") return MessageKind::Location;
    return MessageKind::Text;
}

std::optional<MediaInfo> mediaOf(const json& content, MessageKind kind) {
    if (kind != MessageKind::Image && kind != MessageKind::File && kind != MessageKind::Audio &&
        kind != MessageKind::Video && kind != MessageKind::Sticker)
        return std::nullopt;
    std::string url = str(content, "url");
    if (url.empty()) return std::nullopt;  // encrypted files carry `file`, not `url`
    MediaInfo media;
    media.mxcUrl = url;
    const json& info = obj(content, "info");
    media.mimeType = str(info, "mimetype");
    if (auto it = info.find("size"); it != info.end() && it->is_number_integer())
        media.size = it->get<int64_t>();
    media.fileName = str(content, "filename");
    if (media.fileName.empty()) media.fileName = str(content, "body");
    return media;
}

HookResult unsupported(const std::string& what) {
    return HookResult::unsupported("this bridge does not support " + what);
}

}  // namespace

EventRouter::EventRouter(Deps deps)
    : deps_(std::move(deps)),
      edits_(dynamic_cast<EditHandler*>(&deps_.connector)),
      redactions_(dynamic_cast<RedactionHandler*>(&deps_.connector)),
      reactions_(dynamic_cast<ReactionHandler*>(&deps_.connector)),
      typing_(dynamic_cast<TypingHandler*>(&deps_.connector)),
      receipts_(dynamic_cast<ReceiptHandler*>(&deps_.connector)),
      presence_(dynamic_cast<PresenceHandler*>(&deps_.connector)) {}

HookResult EventRouter::route(const MatrixEvent& event) {
    switch (event.source()) {
        case EventSource::Timeline: {
            HookResult result = routeTimeline(event);
            if (result.kind() != HookResult::Kind::Delivered || !deps_.mapDelivered || event.eventId().empty())
                return result;
            if (!result.remoteIdsByRoom().empty()) {
                // Only rooms the event is still linked to: a hook never maps into another room.
                for (const RemoteRoomId& remote : deps_.remotesFor(event.roomId()))
                    if (auto id = result.remoteIdsByRoom().find(remote); id != result.remoteIdsByRoom().end())
                        deps_.mapDelivered(event.roomId(), event.eventId(), remote, id->second);
            } else if (!result.remoteId().empty()) {
                for (const RemoteRoomId& remote : deps_.remotesFor(event.roomId()))
                    deps_.mapDelivered(event.roomId(), event.eventId(), remote, result.remoteId());
            }
            return result;
        }
        case EventSource::Ephemeral: return routeEphemeral(event);
        case EventSource::ToDevice: return HookResult::ignored();
    }
    return HookResult::ignored();
}

HookResult EventRouter::routeMembership(const MatrixEvent& event) {
    const json& content = event.content();
    MatrixMembership m{event, event.roomId(), deps_.remotesFor(event.roomId()), event.sender(),
                       UserId(event.stateKey().value_or("")), str(content, "membership"),
                       str(obj(obj(event.json(), "unsigned"), "prev_content"), "membership"),
                       str(content, "displayname"), str(content, "reason"), false, false};
    if (deps_.memberNames) deps_.memberNames->noteMembership(m.room, m.target, m.membership, m.displayName);
    m.isBot = m.target == deps_.bot;
    m.isGhost = !m.isBot && deps_.isGhost(m.target);
    if (m.isBot && m.membership == "invite" && deps_.botInvited) deps_.botInvited(m.room, m.sender);
    return deps_.connector.onMatrixMembership(m);
}

HookResult EventRouter::routeTimeline(const MatrixEvent& event) {
    const std::string& type = event.type();
    if (type == "m.room.member") return routeMembership(event);
    std::vector<RemoteRoomId> remotes = deps_.remotesFor(event.roomId());
    if (type == "m.room.message" || type == "m.sticker") return routeMessage(event, std::move(remotes));
    if (remotes.empty()) return HookResult::ignored();  // not a portal
    const json& content = event.content();
    if (type == "m.reaction") {
        const json& rel = obj(content, "m.relates_to");
        if (str(rel, "rel_type") != "m.annotation") return HookResult::ignored();
        if (!reactions_) return unsupported("reactions");
        EventId target(str(rel, "event_id"));
        MatrixReaction r{event, event.roomId(), std::move(remotes), event.sender(), target,
                         deps_.remoteFor(target), str(rel, "key")};
        return reactions_->onMatrixReaction(r);
    }
    if (type == "m.room.redaction") {
        // Room versions up to 10 put `redacts` at the top level; v11 moved it into content.
        std::string redacts = str(event.json(), "redacts");
        if (redacts.empty()) redacts = str(content, "redacts");
        if (!redactions_) return unsupported("redactions (deleting messages)");
        EventId target(redacts);
        MatrixRedaction r{event, event.roomId(), std::move(remotes), event.sender(), target,
                          deps_.remoteFor(target), str(content, "reason")};
        return redactions_->onMatrixRedaction(r);
    }
    if (type == "m.room.encrypted")
        return unsupported("encrypted messages; disable encryption in bridged rooms");
    if (event.isState()) {
        MatrixStateChange s{event, event.roomId(), std::move(remotes), event.sender(), type,
                            *event.stateKey()};
        readRoomChange(s);
        return deps_.connector.onMatrixStateChange(s);
    }
    return HookResult::ignored();
}

HookResult EventRouter::routeMessage(const MatrixEvent& event, std::vector<RemoteRoomId> remotes) {
    const json& content = event.content();
    std::string body = str(content, "body");
    if (remotes.empty()) {
        // Not a portal: an answer to a login question, a "!command" to the bot in its DM, or
        // nothing for us. The answer comes first: a password may well start with "!".
        if (deps_.directMessage && deps_.directMessage(event.sender(), event.roomId(), event.eventId(), body))
            return HookResult::delivered();
        if (!body.empty() && body[0] == '!' && deps_.command &&
            deps_.command(event.sender(), event.roomId(), body))
            return HookResult::delivered();
        return HookResult::ignored();
    }
    const json& rel = obj(content, "m.relates_to");
    if (str(rel, "rel_type") == "m.replace") {
        if (!edits_) return unsupported("edits");
        const json& next = obj(content, "m.new_content");
        EventId target(str(rel, "event_id"));
        MatrixEdit e{event, event.roomId(), std::move(remotes), event.sender(), target,
                     deps_.remoteFor(target), str(next, "body"), std::nullopt};
        if (str(next, "format") == "org.matrix.custom.html") e.newHtml = str(next, "formatted_body");
        return edits_->onMatrixEdit(e);
    }
    MessageKind kind = kindOf(event.type(), str(content, "msgtype"));
    std::string senderName = deps_.memberNames
                                 ? deps_.memberNames->displayName(event.roomId(), event.sender())
                                 : std::string(localpartOf(event.sender().str()));
    MatrixMessage m{event, event.roomId(), std::move(remotes), event.sender(), std::move(senderName),
                    kind, body, std::nullopt, mediaOf(content, kind), std::nullopt, std::nullopt};
    std::string replyTo = str(obj(rel, "m.in_reply_to"), "event_id");
    if (!replyTo.empty()) {
        m.replyTo = EventId(replyTo);
        m.replyToRemote = deps_.remoteFor(*m.replyTo);
        m.body = format::stripPlainReplyFallback(m.body);
    }
    if (str(content, "format") == "org.matrix.custom.html") {
        std::string html = str(content, "formatted_body");
        m.html = replyTo.empty() ? html : format::stripHtmlReplyFallback(html);
    }
    return deps_.connector.onMatrixMessage(m);
}

HookResult EventRouter::routeEphemeral(const MatrixEvent& event) {
    const json& content = event.content();
    const std::string& type = event.type();
    if (type == "m.typing") {
        if (!typing_) return HookResult::ignored();
        std::vector<RemoteRoomId> remotes = deps_.remotesFor(event.roomId());
        if (remotes.empty()) return HookResult::ignored();
        MatrixTyping t{event, event.roomId(), std::move(remotes), {}};
        if (auto it = content.find("user_ids"); it != content.end() && it->is_array()) {
            for (const auto& u : *it) {
                if (!u.is_string()) continue;
                UserId user(u.get<std::string>());
                if (user != deps_.bot && !deps_.isGhost(user)) t.typing.push_back(std::move(user));
            }
        }
        return typing_->onMatrixTyping(t);
    }
    if (type == "m.receipt") {
        if (!receipts_) return HookResult::ignored();
        std::vector<RemoteRoomId> remotes = deps_.remotesFor(event.roomId());
        if (remotes.empty()) return HookResult::ignored();
        // {"$event": {"m.read": {"@user:hs": {"ts": 1}}}}
        HookResult last = HookResult::ignored();
        for (const auto& [eventId, byType] : content.items()) {
            if (!byType.is_object()) continue;
            const json& reads = obj(byType, "m.read");
            for (const auto& [user, _] : reads.items()) {
                UserId reader(user);
                if (reader == deps_.bot || deps_.isGhost(reader)) continue;
                EventId id(eventId);
                MatrixReceipt r{event, event.roomId(), remotes, reader, id, deps_.remoteFor(id)};
                last = receipts_->onMatrixReceipt(r);
            }
        }
        return last;
    }
    if (type == "m.presence") {
        if (!presence_ || event.sender() == deps_.bot || deps_.isGhost(event.sender()))
            return HookResult::ignored();
        MatrixPresence p{event, event.sender(), str(content, "presence"), str(content, "status_msg")};
        return presence_->onMatrixPresence(p);
    }
    return HookResult::ignored();
}

}  // namespace mxbridge::detail
