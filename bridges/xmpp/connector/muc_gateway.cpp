#include "muc_gateway.h"

#include <boost/asio/post.hpp>

#include "matrix_jids.h"
#include "message_text.h"
#include "muc.h"
#include "mxbridge/xmpp/namespaces.h"
#include "mxbridge/xmpp/stanza.h"

namespace mxbridge::xmpp {

namespace {

constexpr std::string_view kGatewayPrefix = "gw/";
constexpr std::string_view kStableId = "http://jabber.org/protocol/muc#stable_id";  // XEP-0045 §7.4

// What the room is, as disco#info features (XEP-0045 §6.4): anyone may join, nothing is
// moderated, no password, everyone sees real addresses (Matrix ids are public in the room),
// the room outlives its occupants, and reflections keep the sender's id.
const std::vector<std::string>& roomFeatures() {
    static const std::vector<std::string> features = {
        std::string(ns::kMuc), "muc_public", "muc_open", "muc_unmoderated", "muc_nonanonymous", "muc_unsecured",
        "muc_persistent", std::string(kStableId), std::string(ns::kStanzaIds)};
    return features;
}

}  // namespace

RemoteRoomId gatewayRoomId(const Jid& room) { return RemoteRoomId(std::string(kGatewayPrefix) + room.bareStr()); }

std::optional<Jid> gatewayRoomOf(const RemoteRoomId& remote) {
    const std::string& s = remote.str();
    if (s.rfind(kGatewayPrefix, 0) != 0) return std::nullopt;
    auto jid = Jid::parse(std::string_view(s).substr(kGatewayPrefix.size()));
    if (!jid || jid->local().empty() || !jid->isBare()) return std::nullopt;
    return jid;
}

MucGateway::MucGateway(BridgeContext& ctx, Logger log, const XmppBridgeConfig& config, boost::asio::io_context& io,
                       ComponentConnection& connection)
    : ctx_(ctx), log_(std::move(log)), config_(config), io_(io), connection_(connection) {}

DiscoIdentity MucGateway::serviceIdentity() {
    return DiscoIdentity{.category = "conference", .type = "text", .name = "Matrix rooms"};
}

std::vector<std::string> MucGateway::serviceFeatures() {
    return {std::string(ns::kMuc), std::string(kStableId)};
}

std::optional<std::string> MucGateway::aliasOf(const Jid& to) const {
    if (!config_.gateway.enabled || to.domain() != config_.component.jid || to.local().empty()) return std::nullopt;
    return config_.gateway.room.aliasFor(to.local());
}

MucGateway::Room& MucGateway::roomState(const Jid& bare, const std::string& alias) {
    auto& slot = rooms_[bare.str()];
    if (!slot) slot = std::make_unique<Room>(Room{.jid = bare, .alias = alias, .matrixRoom = std::nullopt,
                                                  .name = {}, .subject = {}, .members = {}, .occupants = {}, .joining = {},
                                                  .lines = {}, .lineOrder = {}});
    return *slot;
}

std::set<std::string> MucGateway::nicks(const Room& room) const {
    std::set<std::string> taken;
    for (const auto& [user, nick] : room.members) taken.insert(nick);
    for (const auto& [jid, occupant] : room.occupants) taken.insert(occupant.nick);
    return taken;
}

bool MucGateway::nickTaken(const Room& room, const std::string& nick, const Jid& by) const {
    for (const auto& [user, memberNick] : room.members)
        if (memberNick == nick) return true;
    // Another resource of the same account may share its nick (XEP-0045 §7.2.9 lets it).
    for (const auto& [jid, occupant] : room.occupants)
        if (occupant.nick == nick && occupant.jid.bare() != by.bare()) return true;
    return false;
}

Jid MucGateway::memberJid(const Room& room, const std::string& nick) const {
    return room.jid.withResource(nick).value_or(room.jid);
}

std::string MucGateway::memberRealJid(const std::string& userId) const {
    auto local = jidLocalForMatrixUser(userId);
    return local ? *local + "@" + config_.component.jid : std::string();
}

void MucGateway::refuse(const Element& stanza, StanzaError error) {
    Element reply = makeErrorReply(stanza, error);
    if (stanza.name() == "presence") {
        // XEP-0045 §7.2.6 and on: the error comes from the occupant JID asked for, with the
        // <x/> of the join so the client knows which room refused.
        reply.addChild("x", std::string(ns::kMuc));
    }
    connection_.send(std::move(reply));
}

bool MucGateway::onStanza(const Element& stanza) {
    auto to = Jid::parse(stanza.attrOr("to"));
    auto from = Jid::parse(stanza.attrOr("from"));
    if (!to || !from) return false;
    auto alias = aliasOf(*to);
    if (!alias) return false;
    std::string_view type = stanza.attrOr("type");
    if (type == "error") return true;  // never answered: a bounce of what we sent
    auto it = rooms_.find(to->bareStr());
    Room* room = it == rooms_.end() ? nullptr : it->second.get();
    if (stanza.name() == "presence") {
        if (type == "unavailable") {
            if (room) onLeave(*room, *from);
            return true;
        }
        if (!type.empty()) return true;  // subscriptions and probes: a room has no roster
        onJoin(stanza, *from, *to, *alias);
        return true;
    }
    if (stanza.name() != "message") return false;
    if (type == "groupchat" && to->isBare()) {
        if (!room || !room->occupants.count(from->str())) {
            refuse(stanza, {.type = "modify", .condition = "not-acceptable",
                            .text = "join the room before writing to it"});
            return true;
        }
        onGroupchat(*room, stanza, *from);
        return true;
    }
    if (stanza.child("body", ns::kComponentAccept))
        refuse(stanza, {.type = "cancel", .condition = "feature-not-implemented",
                        .text = "private messages in Matrix rooms are not carried yet"});
    return true;
}

void MucGateway::onJoin(const Element& presence, const Jid& from, const Jid& to, const std::string& alias) {
    if (to.isBare()) {
        refuse(presence, {.type = "modify", .condition = "jid-malformed", .text = "a nick is needed: room/nick"});
        return;
    }
    auto server = std::string_view(alias).substr(alias.find(':') + 1);
    if (!config_.gateway.allows(server, ctx_.serverName())) {
        refuse(presence, {.type = "cancel", .condition = "not-allowed",
                          .text = "this gateway opens no rooms of " + std::string(server)});
        return;
    }
    Room& room = roomState(to.bare(), alias);
    if (auto occupant = room.occupants.find(from.str()); occupant != room.occupants.end()) {
        // Already in: a presence update, or a new nick (§7.6).
        if (occupant->second.nick != to.resource()) changeNick(room, presence, occupant->second, to);
        return;
    }
    if (nickTaken(room, to.resource(), from)) {
        refuse(presence, {.type = "cancel", .condition = "conflict",
                          .text = "someone in the room already has the nick " + to.resource()});
        return;
    }
    if (!room.joining.insert(from.str()).second) return;  // the first join is still on its way
    UserId ghost = ctx_.ghostUserId(from.bareStr());
    // The ghost joins as a Matrix client would; the answer comes on a framework thread.
    ctx_.joinRoomAs(ghost, RoomAlias(alias), historyWanted(presence), [this, presence, from, to](Result<JoinedRoom> result) {
        boost::asio::post(io_, [this, presence, from, to, result = std::move(result)]() mutable {
            joined(presence, from, to, std::move(result));
        });
    });
}

void MucGateway::joined(const Element& presence, const Jid& from, const Jid& to, Result<JoinedRoom> result) {
    Room& room = roomState(to.bare(), *aliasOf(to));
    room.joining.erase(from.str());
    if (!result.ok()) {
        log_.info("gateway join refused", {{"room", room.alias}, {"from", from.str()}, {"error", result.error().message}});
        refuse(presence, joinRefusal(result.error()));
        if (room.occupants.empty() && room.joining.empty()) rooms_.erase(room.jid.str());
        return;
    }
    // Someone may have taken the nick while the join was on its way.
    if (nickTaken(room, to.resource(), from)) {
        refuse(presence, {.type = "cancel", .condition = "conflict",
                          .text = "someone in the room already has the nick " + to.resource()});
        return;
    }
    JoinedRoom& matrix = result.value();
    UserId ghost = ctx_.ghostUserId(from.bareStr());
    room.matrixRoom = matrix.room;
    room.subject = matrix.topic;
    room.name = matrix.name;
    // Matrix members, as they are now, are the occupants besides the XMPP users (whose
    // ghosts, like any of the bridge's users, are not shown as members).
    std::map<std::string, std::string> members;
    std::set<std::string> taken;
    for (const auto& [jid, occupant] : room.occupants) taken.insert(occupant.nick);
    taken.insert(to.resource());
    for (const JoinedRoom::Member& member : matrix.members) {
        if (ctx_.isGhost(member.user) || member.user == ctx_.botUserId()) continue;
        auto known = room.members.find(member.user.str());
        std::string nick = known != room.members.end() && !taken.count(known->second)
                               ? known->second
                               : matrixMemberNick(member.displayName, member.user.str(), taken);
        taken.insert(nick);
        members[member.user.str()] = nick;
    }
    room.members = std::move(members);
    room.occupants[from.str()] = Occupant{.jid = from, .nick = to.resource(), .ghost = ghost};
    ctx_.links().link(Link{.room = matrix.room, .remote = gatewayRoomId(room.jid), .options = nlohmann::json::object()});
    ctx_.intent(ghost).setDisplayName(to.resource());
    log_.info("XMPP user joined a Matrix room", {{"room", room.alias}, {"from", from.str()}, {"nick", to.resource()}});

    // XEP-0045 §7.2.3: everyone else in the room first, then the newcomer to everyone (to
    // themselves last, with 110, and 100: the room shows real addresses), then the subject.
    for (const auto& [user, nick] : room.members)
        connection_.send(occupantPresence(memberJid(room, nick), from, memberRealJid(user), true));
    for (const auto& [jid, occupant] : room.occupants)
        if (occupant.jid != from)
            connection_.send(occupantPresence(memberJid(room, occupant.nick), from, occupant.jid.str(), true));
    for (const auto& [jid, occupant] : room.occupants)
        if (occupant.jid != from) connection_.send(occupantPresence(to, occupant.jid, from.str(), true));
    Element self = occupantPresence(to, from, from.str(), true, {100, 110});
    if (auto id = presence.attr("id")) self.setAttr("id", std::string(*id));
    connection_.send(std::move(self));
    // Then the last lines said (§7.2.14), as far as the room lets a newcomer read back.
    for (const JoinedRoom::Line& line : matrix.history) {
        XmppBody body = xmppBodyFor(line.body, line.html);
        connection_.send(historyMessage(memberJid(room, nickOf(room, line.sender)), from, body.text, body.unstyled,
                                        line.event.str(), line.timestampMs));
    }
    connection_.send(subjectMessage(room.jid, from, room.subject));
}

void MucGateway::putOut(Room& room, const UserId& ghost, bool banned) {
    std::vector<Occupant> out;
    for (auto it = room.occupants.begin(); it != room.occupants.end();) {
        if (it->second.ghost == ghost) {
            out.push_back(it->second);
            it = room.occupants.erase(it);
        } else {
            ++it;
        }
    }
    // XEP-0045 §9.1, §9.2: the occupant hears it with 110 and 307 (kicked) or 301 (banned),
    // everyone else with the code alone.
    int code = banned ? 301 : 307;
    for (const Occupant& occupant : out) {
        Jid occupantJid = memberJid(room, occupant.nick);
        connection_.send(occupantPresence(occupantJid, occupant.jid, occupant.jid.str(), false, {110, code}));
        toEveryone(room, occupantPresence(occupantJid, occupantJid, occupant.jid.str(), false, {code}));
        log_.info("XMPP user put out of a Matrix room", {{"room", room.alias}, {"from", occupant.jid.str()}});
    }
}

void MucGateway::changeNick(Room& room, const Element& presence, Occupant& occupant, const Jid& to) {
    if (nickTaken(room, to.resource(), occupant.jid)) {
        refuse(presence, {.type = "cancel", .condition = "conflict",
                          .text = "someone in the room already has the nick " + to.resource()});
        return;
    }
    // XEP-0045 §7.6.3: everyone sees the old nick go with 303 and the new nick, then the new
    // nick come; the occupant's own copies carry 110.
    Jid old = memberJid(room, occupant.nick);
    for (const auto& [jid, other] : room.occupants) {
        bool self = other.jid == occupant.jid;
        std::set<int> going{303};
        if (self) going.insert(110);
        Element leaving = occupantPresence(old, other.jid, occupant.jid.str(), false, going);
        Element* item = leaving.child("x", ns::kMucUser)->child("item", ns::kMucUser);
        item->setAttr("role", "participant");
        item->setAttr("nick", to.resource());
        connection_.send(std::move(leaving));
    }
    occupant.nick = to.resource();
    for (const auto& [jid, other] : room.occupants) {
        std::set<int> coming;
        if (other.jid == occupant.jid) coming.insert(110);
        connection_.send(occupantPresence(to, other.jid, occupant.jid.str(), true, coming));
    }
    // The ghost's Matrix name follows (one name for all rooms: Matrix profiles are global).
    ctx_.intent(occupant.ghost).setDisplayName(to.resource());
}

void MucGateway::onLeave(Room& room, const Jid& from) {
    auto it = room.occupants.find(from.str());
    if (it == room.occupants.end()) return;
    Occupant leaving = it->second;
    room.occupants.erase(it);
    Jid occupantJid = memberJid(room, leaving.nick);
    // XEP-0045 §7.14: the leaver gets their own unavailable presence with 110; the others see
    // them go.
    connection_.send(occupantPresence(occupantJid, from, from.str(), false, {110}));
    toEveryone(room, occupantPresence(occupantJid, occupantJid, from.str(), false));
    bool sameAccountStays = false;
    for (const auto& [jid, occupant] : room.occupants)
        if (occupant.jid.bare() == from.bare()) sameAccountStays = true;
    if (!sameAccountStays && room.matrixRoom) ctx_.intent(leaving.ghost).leave(*room.matrixRoom);
    log_.info("XMPP user left a Matrix room", {{"room", room.alias}, {"from", from.str()}});
    if (room.occupants.empty() && room.joining.empty() && room.matrixRoom) {
        // Nobody on XMPP hears the room any more: its events need not reach the bridge.
        ctx_.links().unlink(*room.matrixRoom, gatewayRoomId(room.jid));
        rooms_.erase(room.jid.str());
    }
}

void MucGateway::toEveryone(const Room& room, const Element& stanza) {
    for (const auto& [jid, occupant] : room.occupants) {
        Element copy = stanza;
        copy.setAttr("to", occupant.jid.str());
        connection_.send(std::move(copy));
    }
}

void MucGateway::onGroupchat(Room& room, const Element& message, const Jid& from) {
    const Occupant& sender = room.occupants.at(from.str());
    if (message.child("subject", ns::kComponentAccept)) {
        refuse(message, {.type = "auth", .condition = "forbidden",
                         .text = "the subject is the Matrix room's topic, not changed from XMPP yet"});
        return;
    }
    auto body = message.childText("body", ns::kComponentAccept);
    if (!body || body->empty()) return;  // chat states and markers: not carried yet
    // The room's own id for the line (XEP-0359), which Matrix knows it by too; the sender's
    // id is kept on every reflection so their client sees its line echoed (§7.4).
    std::string stanzaId = ids_.next();
    std::string id(message.attrOr("id"));
    if (id.empty()) id = stanzaId;
    Element reflection("message", std::string(ns::kComponentAccept));
    reflection.setAttr("from", memberJid(room, sender.nick).str()).setAttr("type", "groupchat").setAttr("id", id);
    for (const Element* child : message.elements()) {
        // Only the room says which id it gave: a sender's own stanza-id claiming to be the
        // room's is dropped (XEP-0359 §5).
        if (child->is("stanza-id", ns::kStanzaIds)) continue;
        reflection.addChild(*child);
    }
    reflection.addChild("stanza-id", std::string(ns::kStanzaIds)).setAttr("id", stanzaId).setAttr("by", room.jid.str());
    toEveryone(room, reflection);

    if (!message.attrOr("id").empty()) rememberLine(room, from, id, stanzaId);
    RemoteSender ghost{RemoteUserId(from.bareStr()), from.bareStr(), sender.nick, std::nullopt};
    // A correction (XEP-0308) of one of their lines the room remembers edits it in Matrix;
    // of any other, it arrives as a new line, as clients without corrections show it.
    if (const Element* replace = message.child("replace", ns::kCorrection))
        if (auto target = lineOf(room, from, std::string(replace->attrOr("id")))) {
            ctx_.queueRemote(RemoteEdit{.room = gatewayRoomId(room.jid), .sender = ghost,
                                        .target = RemoteMessageId(*target), .newBody = *body,
                                        .newHtml = matrixHtmlFor(message, *body)});
            return;
        }
    RemoteMessage line;
    line.portal = PortalInfo{.id = gatewayRoomId(room.jid), .name = room.alias, .topic = room.subject, .aliasId = {},
                             .isPublic = false, .createIfMissing = false, .directWith = std::nullopt, .invite = {}};
    line.sender = std::move(ghost);
    line.id = RemoteMessageId(stanzaId);
    line.kind = MessageKind::Text;
    line.body = *body;
    line.html = matrixHtmlFor(message, *body);
    ctx_.queueRemote(std::move(line));
}

std::optional<std::string> MucGateway::lineOf(const Room& room, const Jid& from, const std::string& clientId) const {
    if (clientId.empty()) return std::nullopt;
    auto it = room.lines.find(from.bareStr() + "\n" + clientId);
    if (it == room.lines.end()) return std::nullopt;
    return it->second;
}

void MucGateway::rememberLine(Room& room, const Jid& from, const std::string& clientId, const std::string& stanzaId) {
    constexpr std::size_t kKept = 10'000;
    std::string key = from.bareStr() + "\n" + clientId;
    if (room.lines.emplace(key, stanzaId).second) room.lineOrder.push_back(key);
    while (room.lineOrder.size() > kKept) {
        room.lines.erase(room.lineOrder.front());
        room.lineOrder.pop_front();
    }
}

bool MucGateway::onIq(const Element& iq) {
    auto to = Jid::parse(iq.attrOr("to"));
    auto from = Jid::parse(iq.attrOr("from"));
    if (!to || !from || !config_.gateway.enabled) return false;
    if (to->local().empty() && to->domain() == config_.component.jid) {
        // The service lists no rooms: every Matrix room with an alias is one (XEP-0045 §6.3
        // lets a service keep its list to itself).
        if (iq.attrOr("type") == "get" && iq.child("query", ns::kDiscoItems)) {
            Element reply = makeReply(iq, "result");
            reply.addChild("query", std::string(ns::kDiscoItems));
            connection_.send(std::move(reply));
            return true;
        }
        return false;
    }
    auto alias = aliasOf(*to);
    if (!alias) return false;
    if (iq.attrOr("type") == "get" && to->isBare() && iq.child("query", ns::kDiscoInfo)) {
        answerRoomInfo(iq, to->bare(), *alias);
        return true;
    }
    if (iq.attrOr("type") == "get" && iq.child("ping", ns::kPing)) {
        // MUC self-ping (XEP-0410): an occupant asking whether it is still in the room.
        auto it = rooms_.find(to->bareStr());
        bool joined = it != rooms_.end() && it->second->occupants.count(from->str()) &&
                      it->second->occupants.at(from->str()).nick == to->resource();
        if (joined) connection_.send(makeReply(iq, "result"));
        else refuse(iq, {.type = "cancel", .condition = "not-acceptable", .text = "not an occupant of this room"});
        return true;
    }
    refuse(iq, {.type = "cancel", .condition = "feature-not-implemented", .text = {}});
    return true;
}

void MucGateway::answerRoomInfo(const Element& iq, const Jid& room, const std::string& alias) {
    auto server = std::string_view(alias).substr(alias.find(':') + 1);
    if (!config_.gateway.allows(server, ctx_.serverName())) {
        refuse(iq, {.type = "cancel", .condition = "item-not-found",
                    .text = "this gateway opens no rooms of " + std::string(server)});
        return;
    }
    ctx_.resolveAlias(RoomAlias(alias), [this, iq, room, alias](Result<RoomId> result) {
        boost::asio::post(io_, [this, iq, room, alias, result = std::move(result)] {
            if (!result.ok()) {
                refuse(iq, joinRefusal(result.error()));
                return;
            }
            Element reply = makeReply(iq, "result");
            Element& query = reply.addChild("query", std::string(ns::kDiscoInfo));
            // The room's Matrix name once someone joined through the gateway, else its alias.
            auto known = rooms_.find(room.str());
            std::string name = known != rooms_.end() && !known->second->name.empty() ? known->second->name : alias;
            query.addChild("identity", std::string(ns::kDiscoInfo))
                .setAttr("category", "conference")
                .setAttr("type", "text")
                .setAttr("name", name);
            for (const std::string& feature : roomFeatures())
                query.addChild("feature", std::string(ns::kDiscoInfo)).setAttr("var", feature);
            connection_.send(std::move(reply));
        });
    });
}

void MucGateway::sendFromMatrix(const Jid& room, const MatrixMessage& message) {
    // The hook's message is only valid during the hook: what the loop needs is copied.
    boost::asio::post(io_, [this, room, sender = message.sender.str(), name = message.senderName,
                            event = message.event.eventId(), body = xmppBodyFor(message.body, message.html)] {
        auto it = rooms_.find(room.str());
        if (it == rooms_.end() || it->second->occupants.empty()) return;  // nobody on XMPP hears it
        Room& r = *it->second;
        std::string nick = memberNick(r, sender, name);
        Element line("message", std::string(ns::kComponentAccept));
        line.setAttr("from", memberJid(r, nick).str()).setAttr("type", "groupchat").setAttr("id", outgoingId(event));
        line.addChild("body", std::string(ns::kComponentAccept)).addText(body.text);
        markUnstyled(line, body);
        line.addChild("stanza-id", std::string(ns::kStanzaIds)).setAttr("id", event.str()).setAttr("by", r.jid.str());
        toEveryone(r, line);
    });
}

void MucGateway::subjectFromMatrix(const Jid& room, const UserId& by, const std::string& topic) {
    boost::asio::post(io_, [this, room, by, topic] {
        auto it = rooms_.find(room.str());
        if (it == rooms_.end() || it->second->occupants.empty()) return;
        Room& r = *it->second;
        r.subject = topic;
        // XEP-0045 §8.1: from the occupant who changed it (the room's own JID when unknown).
        Element subject = subjectMessage(r.jid, r.jid, topic);
        if (auto member = r.members.find(by.str()); member != r.members.end())
            subject.setAttr("from", memberJid(r, member->second).str());
        toEveryone(r, subject);
    });
}

void MucGateway::membershipFromMatrix(const Jid& room, const MatrixMembership& change) {
    if (change.isGhost && change.sender != change.target && (change.membership == "leave" || change.membership == "ban")) {
        // An XMPP user's ghost put out of the Matrix room by someone there: out of the MUC too.
        boost::asio::post(io_, [this, room, ghost = change.target, banned = change.membership == "ban"] {
            auto it = rooms_.find(room.str());
            if (it != rooms_.end()) putOut(*it->second, ghost, banned);
        });
        return;
    }
    if (change.isGhost || change.isBot) return;  // XMPP occupants are shown from XMPP
    boost::asio::post(io_, [this, room, user = change.target.str(), by = change.sender.str(),
                            membership = change.membership, name = change.displayName] {
        auto it = rooms_.find(room.str());
        if (it == rooms_.end() || it->second->occupants.empty()) return;
        Room& r = *it->second;
        auto member = r.members.find(user);
        if (membership == "join") {
            if (member == r.members.end()) memberNick(r, user, name);  // tells the occupants
            else renameMember(r, user, name);
            return;
        }
        if ((membership != "leave" && membership != "ban") || member == r.members.end()) return;
        std::set<int> statuses;
        if (membership == "ban") statuses.insert(301);
        else if (by != user) statuses.insert(307);  // kicked (§9.1)
        Jid gone = memberJid(r, member->second);
        r.members.erase(member);
        toEveryone(r, occupantPresence(gone, gone, memberRealJid(user), false, statuses));
    });
}

void MucGateway::renameMember(Room& room, const std::string& userId, const std::string& displayName) {
    std::string& nick = room.members.at(userId);
    std::set<std::string> taken = nicks(room);
    taken.erase(nick);
    std::string renamed = matrixMemberNick(displayName, userId, taken);
    if (renamed == nick) return;  // another change of their profile (an avatar, say)
    // XEP-0045 §7.6: the old nick goes, with 303 and the new nick, and the new one comes.
    Jid old = memberJid(room, nick);
    Element going = occupantPresence(old, old, memberRealJid(userId), false, {303});
    Element* item = going.child("x", ns::kMucUser)->child("item", ns::kMucUser);
    item->setAttr("role", "participant");
    item->setAttr("nick", renamed);
    toEveryone(room, going);
    nick = renamed;
    Jid now = memberJid(room, renamed);
    toEveryone(room, occupantPresence(now, now, memberRealJid(userId), true));
}

std::string MucGateway::nickOf(const Room& room, const UserId& user) const {
    if (auto member = room.members.find(user.str()); member != room.members.end()) return member->second;
    for (const auto& [jid, occupant] : room.occupants)
        if (occupant.ghost == user) return occupant.nick;
    // Someone no longer here: an XMPP user by their JID's localpart, a Matrix user by theirs.
    if (ctx_.isGhost(user))
        if (auto remote = ctx_.users().remoteForGhost(user))
            if (auto jid = Jid::parse(remote->str()); jid && !jid->local().empty()) return jid->local();
    return matrixMemberNick("", user.str(), {});
}

std::string MucGateway::memberNick(Room& room, const std::string& userId, const std::string& displayName) {
    auto it = room.members.find(userId);
    if (it != room.members.end()) return it->second;
    std::string nick = matrixMemberNick(displayName, userId, nicks(room));
    room.members[userId] = nick;
    // A member the occupants have not seen yet: their presence comes before anything of theirs.
    Jid occupant = memberJid(room, nick);
    toEveryone(room, occupantPresence(occupant, occupant, memberRealJid(userId), true));
    return nick;
}

}  // namespace mxbridge::xmpp
