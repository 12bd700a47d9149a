#include "muc_portals.h"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <deque>
#include <future>
#include <memory>
#include <vector>

#include "matrix_jids.h"
#include "mxbridge/echo_matcher.h"
#include "mxbridge/xmpp/namespaces.h"
#include "mxbridge/xmpp/stanza.h"

namespace mxbridge::xmpp {

namespace {

constexpr std::string_view kMucPrefix = "muc/";
// Nicks tried for the bridge's own occupant before the join is given up.
constexpr int kNickAttempts = 5;
// A room reflects a line at once; two minutes cover a reconnect and the rejoin after it.
constexpr std::chrono::minutes kReflectionTimeout{2};
constexpr std::chrono::seconds kReflectionSweepInterval{15};

std::string aliasLocalpart(const RoomAlias& alias) {
    const std::string& s = alias.str();
    auto colon = s.find(':');
    if (s.empty() || s[0] != '#' || colon == std::string::npos) return {};
    return s.substr(1, colon - 1);
}

}  // namespace

RemoteRoomId mucRoomId(const Jid& room) { return RemoteRoomId(std::string(kMucPrefix) + room.bareStr()); }

std::optional<Jid> mucRoomOf(const RemoteRoomId& remote) {
    const std::string& s = remote.str();
    if (s.rfind(kMucPrefix, 0) != 0) return std::nullopt;
    auto jid = Jid::parse(std::string_view(s).substr(kMucPrefix.size()));
    if (!jid || jid->local().empty() || !jid->isBare()) return std::nullopt;
    return jid;
}

using PortalPromise = std::promise<std::optional<PortalInfo>>;

// A Matrix user as their own occupant of one MUC, from their JID at the component.
struct MucPortals::Puppet {
    Jid jid;
    std::string wanted;     // their display name
    std::string fallback;   // their user id's localpart, for a blank display name
    std::string nick;       // asked for, then given
    // A nick change asked for: the bridge's own occupant may hear of it before this one
    // does, and must not take it for someone new.
    std::string renamingTo;
    int nickAttempt = 0;
    bool joined = false;
    std::vector<Outgoing> pending;  // sent once the join is done
};

struct MucPortals::Room {
    enum class State { Left, Joining, Joined };
    explicit Room(Jid j) : jid(std::move(j)) {}
    Jid jid;
    State state = State::Left;
    bool selfSeen = false;  // the join's self-presence (110) came; the subject ends the join
    int nickAttempt = 0;
    std::string nick;       // the bridge's own nick, asked for or given
    std::string subject;
    std::map<std::string, Occupant> occupants;  // by nick; the bridge's own left out
    std::vector<std::shared_ptr<PortalPromise>> waiters;
    RecentIds seen;  // stanza ids bridged lately
    std::map<std::string, Puppet> puppets;  // by Matrix user id
    // Matrix users' lines sent and not reflected yet, by stanza id / origin-id. A line the room
    // never reflects (refused without an error, lost with the stream) is told to its sender.
    EchoMatcher<Outgoing> awaitingReflection{{.timeout = kReflectionTimeout, .capacity = 10'000}};
    // What an occupant's line was called by its sender ("<ghost id>/<id>"), to the room's
    // stanza id it is mapped by: corrections (XEP-0308) name the former. Bounded.
    std::map<std::string, std::string> bySenderId;
    std::deque<std::string> bySenderIdOrder;
    // Who sent each line bridged lately, by stanza id: only they may retract it. Bounded.
    std::map<std::string, std::string> authorOf;
    std::deque<std::string> authorOrder;
    // Matrix users' lines the room reflected lately, by event id: their author and the
    // room's stanza id, so a redaction knows whether to retract or to moderate. Bounded.
    struct MatrixLine {
        std::string author;
        std::string stanzaId;
    };
    std::map<std::string, MatrixLine> matrixLines;
    std::deque<std::string> matrixLineOrder;
    // Redactions of lines whose reflection has not come yet, by the line's own stanza id.
    std::map<std::string, Redaction> redactWhenReflected;
    // Everyone's current reactions to lines (by stanza id), and Matrix users' reaction events.
    ReactionSets reactions;
};

namespace {

constexpr std::size_t kRememberedLines = 10'000;
template <typename Map>
void remember(Map& map, std::deque<std::string>& order, const std::string& key, typename Map::mapped_type value) {
    auto [it, added] = map.insert_or_assign(key, std::move(value));
    if (added) order.push_back(key);
    while (order.size() > kRememberedLines) {
        map.erase(order.front());
        order.pop_front();
    }
}

}  // namespace

MucPortals::MucPortals(BridgeContext& ctx, Logger log, const XmppBridgeConfig& config, boost::asio::io_context& io,
                       ComponentConnection& connection)
    : ctx_(ctx), log_(std::move(log)), config_(config), io_(io), connection_(connection), reflectionSweep_(io) {
    sweepUnreflected();
}

// Every so often, on the loop: lines no room reflected in time are told to their senders (a
// reflection is the only receipt a MUC gives; without it the line may never have arrived).
void MucPortals::sweepUnreflected() {
    for (auto& [name, room] : rooms_) {
        auto lost = room->awaitingReflection.expireAndReport(ctx_, "the XMPP room " + name + " did not confirm it");
        for (const auto& line : lost) {
            log_.warn("a Matrix user's line was not reflected by the room in time",
                      {{"room", name}, {"event", line.origin.event.str()}});
            // A redaction that waited for this line's reflection cannot name it either.
            auto waiting = room->redactWhenReflected.find(line.key);
            if (waiting == room->redactWhenReflected.end()) continue;
            ctx_.reportDeliveryFailure(waiting->second.room, waiting->second.event,
                                       Error::permanent("no_echo", "the XMPP room " + name +
                                                                       " never confirmed the message it deletes, "
                                                                       "so it could not be retracted there"));
            room->redactWhenReflected.erase(waiting);
        }
    }
    reflectionSweep_.expires_after(kReflectionSweepInterval);
    reflectionSweep_.async_wait([this](const boost::system::error_code& error) {
        if (!error) sweepUnreflected();
    });
}

MucPortals::~MucPortals() = default;

std::optional<PortalInfo> MucPortals::portalForAlias(const RoomAlias& alias, std::chrono::milliseconds wait) {
    auto room = config_.muc.alias.roomFor(aliasLocalpart(alias));
    if (!room) return std::nullopt;
    if (!config_.muc.allows(*room)) {
        log_.info("alias names a MUC service the bridge may not join", {{"alias", alias.str()}, {"room", room->bareStr()}});
        return std::nullopt;
    }
    auto promise = std::make_shared<PortalPromise>();
    auto answer = promise->get_future();
    boost::asio::post(io_, [this, jid = *room, promise] {
        Room& r = roomState(jid);
        if (r.state == Room::State::Joined) {
            promise->set_value(portalInfo(r));
            return;
        }
        r.waiters.push_back(promise);
        if (r.state == Room::State::Left) join(r);
    });
    if (answer.wait_for(wait) != std::future_status::ready) {
        log_.warn("the MUC did not let the bridge in in time", {{"room", room->bareStr()}});
        return std::nullopt;
    }
    return answer.get();
}

MucPortals::Room& MucPortals::roomState(const Jid& room) {
    auto& slot = rooms_[room.bareStr()];
    if (!slot) slot = std::make_unique<Room>(room.bare());
    return *slot;
}

Jid MucPortals::botJid() const { return *Jid::fromParts("", config_.component.jid, "bridge"); }

void MucPortals::join(Room& room) {
    room.state = Room::State::Joining;
    room.selfSeen = false;
    room.nick = nickAttempt(config_.muc.nick, "matrix", room.nickAttempt);
    auto occupant = room.jid.withResource(room.nick);
    if (!occupant) {
        failJoin(room, "the nick \"" + room.nick + "\" is no valid resource");
        return;
    }
    log_.info("joining MUC", {{"room", room.jid.bareStr()}, {"nick", room.nick}});
    connection_.send(mucJoinPresence(botJid(), *occupant));
}

void MucPortals::joined(Room& room) {
    room.state = Room::State::Joined;
    room.nickAttempt = 0;
    log_.info("joined MUC", {{"room", room.jid.bareStr()}, {"nick", room.nick},
                             {"occupants", std::to_string(room.occupants.size())}});
    PortalInfo info = portalInfo(room);
    for (auto& waiter : std::exchange(room.waiters, {})) waiter->set_value(info);
}

void MucPortals::failJoin(Room& room, const std::string& why) {
    room.state = Room::State::Left;
    room.nickAttempt = 0;
    log_.warn("could not join MUC", {{"room", room.jid.bareStr()}, {"why", why}});
    for (auto& waiter : std::exchange(room.waiters, {})) waiter->set_value(std::nullopt);
}

PortalInfo MucPortals::portalInfo(const Room& room) const {
    return PortalInfo{.id = mucRoomId(room.jid),
                      .name = room.jid.bareStr(),
                      .topic = room.subject,
                      .aliasId = {},
                      .isPublic = true,
                      .createIfMissing = false,
                      .directWith = std::nullopt,
                      .invite = {}};
}

RemoteSender MucPortals::senderOf(const Room& room, const std::string& nick) const {
    auto it = room.occupants.find(nick);
    if (it != room.occupants.end()) return senderFor(it->second);
    return senderFor(Occupant{occupantIdentity(room.jid, nick, std::nullopt, std::nullopt), nick});
}

RemoteSender MucPortals::senderFor(const Occupant& occupant) {
    const std::string& id = occupant.identity.remoteUserId;
    return RemoteSender{RemoteUserId(id), id, occupant.nick, std::nullopt};
}

void MucPortals::onConnected() {
    for (const Link& link : ctx_.links().all())
        if (auto jid = mucRoomOf(link.remote)) roomState(*jid);
    for (auto& [name, room] : rooms_)
        if (room->state == Room::State::Left && (!room->waiters.empty() || !ctx_.links().forRemote(mucRoomId(room->jid)).empty()))
            join(*room);
}

void MucPortals::onDisconnected() {
    // The server dropped every occupant of ours with the stream; those still Joining have
    // their join presence waiting in the send queue and stay Joining.
    // Matrix users' occupants are forgotten too: their next line joins again (one still
    // joining keeps its join presence in the send queue, and its lines wait for it).
    for (auto& [name, room] : rooms_) {
        if (room->state == Room::State::Joined) room->state = Room::State::Left;
        std::erase_if(room->puppets, [](const auto& entry) { return entry.second.joined; });
    }
}

void MucPortals::sendFromMatrix(const Jid& mucRoom, Outgoing message) {
    boost::asio::post(io_, [this, mucRoom, message = std::move(message)]() mutable {
        Room& room = roomState(mucRoom);
        if (room.state != Room::State::Joined) {
            ctx_.reportDeliveryFailure(message.room, message.event,
                                       Error::permanent("xmpp_muc_not_joined",
                                                        "the bridge is not in " + mucRoom.bareStr() + " right now"));
            if (room.state == Room::State::Left) join(room);
            return;
        }
        sendAsPuppet(room, std::move(message));
    });
}

void MucPortals::sendAsPuppet(Room& room, Outgoing message) {
    std::string user = message.sender.str();
    auto [it, created] = room.puppets.try_emplace(user);
    Puppet& puppet = it->second;
    if (created) {
        auto local = jidLocalForMatrixUser(user);
        auto jid = local ? Jid::fromParts(*local, config_.component.jid) : std::nullopt;
        if (!jid) {
            room.puppets.erase(it);
            ctx_.reportDeliveryFailure(message.room, message.event,
                                       Error::permanent("xmpp_no_jid", "this Matrix user id has no JID"));
            return;
        }
        puppet.jid = *jid;
        puppet.wanted = message.senderName;
        auto colon = user.find(':');
        puppet.fallback = user.substr(1, colon == std::string::npos ? std::string::npos : colon - 1);
        puppet.pending.push_back(std::move(message));
        joinPuppet(room, puppet);
        return;
    }
    if (!puppet.joined) {
        puppet.pending.push_back(std::move(message));
        return;
    }
    sendGroupchat(room, puppet, message);
}

void MucPortals::redactFromMatrix(const Jid& mucRoom, Redaction redaction) {
    boost::asio::post(io_, [this, mucRoom, redaction = std::move(redaction)] {
        Room& room = roomState(mucRoom);
        if (room.state != Room::State::Joined) {
            ctx_.reportDeliveryFailure(redaction.room, redaction.event,
                                       Error::permanent("xmpp_muc_not_joined",
                                                        "the bridge is not in " + mucRoom.bareStr() + " right now"));
            return;
        }
        if (auto taken = room.reactions.takeSent(redaction.target.str())) {
            // A reaction taken back: the set without it goes (from whoever reacted; the
            // homeserver let the redacting user do it).
            sendReactions(room, redaction.room, redaction.event, UserId(taken->who), taken->line,
                          room.reactions.remove(taken->who, taken->line, taken->key));
            return;
        }
        auto line = room.matrixLines.find(redaction.target.str());
        if (line != room.matrixLines.end()) {
            redact(room, redaction, line->second.stanzaId);
            return;
        }
        // A Matrix user's line the room has not reflected yet: its stanza id is not known.
        if (room.awaitingReflection.waitingFor(outgoingId(redaction.target))) {
            room.redactWhenReflected.emplace(outgoingId(redaction.target), redaction);
            return;
        }
        if (redaction.targetStanzaId) {
            redact(room, redaction, *redaction.targetStanzaId);
            return;
        }
        log_.debug("redacted event never reached the MUC", {{"room", mucRoom.bareStr()}, {"event", redaction.target.str()}});
    });
}

void MucPortals::redact(Room& room, const Redaction& redaction, const std::string& stanzaId) {
    auto line = room.matrixLines.find(redaction.target.str());
    bool own = line != room.matrixLines.end() && line->second.author == redaction.sender.str();
    if (!own) {
        moderate(room, redaction, stanzaId);
        return;
    }
    std::string id = outgoingId(redaction.event);
    sendAsPuppet(room, Outgoing{.room = redaction.room,
                                .event = redaction.event,
                                .sender = redaction.sender,
                                .senderName = {},
                                .body = XmppBody{.text = std::string(kRetractFallback), .unstyled = false},
                                .stanzaId = id,
                                .replaces = std::nullopt,
                                .retracts = stanzaId,
                                .reactions = std::nullopt,
                                .replyTo = std::nullopt});
}

void MucPortals::moderate(Room& room, const Redaction& redaction, const std::string& stanzaId) {
    Element iq("iq", std::string(ns::kComponentAccept));
    iq.setAttr("type", "set").setAttr("to", room.jid.bareStr()).setAttr("from", botJid().str());
    Element& moderate = iq.addChild("moderate", std::string(ns::kModerate));
    moderate.setAttr("id", stanzaId);
    moderate.addChild("retract", std::string(ns::kRetract));
    if (!redaction.reason.empty()) moderate.addChild("reason", std::string(ns::kModerate)).addText(redaction.reason);
    log_.info("moderating a line in the MUC for a Matrix redaction",
              {{"room", room.jid.bareStr()}, {"stanza_id", stanzaId}, {"by", redaction.sender.str()}});
    connection_.sendIq(std::move(iq), [this, jid = room.jid, redaction](const IqResponse& r) {
        if (r.outcome == IqOutcome::Result) return;
        ctx_.reportDeliveryFailure(redaction.room, redaction.event,
                                   Error::permanent("xmpp_moderation_refused",
                                                    jid.bareStr() + " did not let the bridge remove the message (the "
                                                    "bridge needs the moderator role there): " + describe(r.error)));
    });
}

void MucPortals::rememberMatrixLine(Room& room, const Outgoing& line, const std::string& stanzaId) {
    remember(room.matrixLines, room.matrixLineOrder, line.event.str(), Room::MatrixLine{line.sender.str(), stanzaId});
}

std::optional<Jid> MucPortals::occupantJidOf(const Room& room, const std::string& stanzaId, const EventId& event) const {
    auto line = room.matrixLines.find(event.str());
    if (line != room.matrixLines.end()) {
        auto puppet = room.puppets.find(line->second.author);
        return puppet == room.puppets.end() ? std::nullopt : room.jid.withResource(puppet->second.nick);
    }
    auto author = room.authorOf.find(stanzaId);
    if (author == room.authorOf.end()) return std::nullopt;
    for (const auto& [nick, occupant] : room.occupants)
        if (occupant.identity.remoteUserId == author->second) return room.jid.withResource(nick);
    return std::nullopt;
}

std::optional<std::string> MucPortals::stanzaIdOf(const Room& room, const EventId& event,
                                                  const std::optional<std::string>& mapped) const {
    auto line = room.matrixLines.find(event.str());
    if (line != room.matrixLines.end()) return line->second.stanzaId;
    return mapped;
}

void MucPortals::reactFromMatrix(const Jid& mucRoom, Reaction reaction) {
    boost::asio::post(io_, [this, mucRoom, reaction = std::move(reaction)] {
        Room& room = roomState(mucRoom);
        if (room.state != Room::State::Joined) {
            ctx_.reportDeliveryFailure(reaction.room, reaction.event,
                                       Error::permanent("xmpp_muc_not_joined",
                                                        "the bridge is not in " + mucRoom.bareStr() + " right now"));
            return;
        }
        auto target = stanzaIdOf(room, reaction.target, reaction.targetStanzaId);
        if (!target) {
            // A reaction names its line by the room's stanza id (XEP-0444 in groupchat): a line
            // from before the bridge joined, or from a room without XEP-0359, has none.
            log_.debug("reaction to a line the MUC has no id for, not sent",
                       {{"room", mucRoom.bareStr()}, {"event", reaction.target.str()}});
            ctx_.reportDeliveryFailure(reaction.room, reaction.event,
                                       Error::permanent("xmpp_no_stanza_id",
                                                        mucRoom.bareStr() + " gave that message no id a reaction "
                                                                            "could name, so XMPP users cannot see it"));
            return;
        }
        room.reactions.rememberSent(reaction.event.str(), {reaction.sender.str(), *target, reaction.key});
        sendReactions(room, reaction.room, reaction.event, reaction.sender, *target,
                      room.reactions.add(reaction.sender.str(), *target, reaction.key));
    });
}

void MucPortals::sendReactions(Room& room, const RoomId& matrixRoom, const EventId& event, const UserId& user,
                               const std::string& target, std::vector<std::string> keys) {
    sendAsPuppet(room, Outgoing{.room = matrixRoom,
                                .event = event,
                                .sender = user,
                                .senderName = {},
                                .body = {},
                                .stanzaId = outgoingId(event),
                                .replaces = std::nullopt,
                                .retracts = std::nullopt,
                                .reactions = Outgoing::Reactions{.target = target, .keys = std::move(keys)},
                                .replyTo = std::nullopt});
}

void MucPortals::renameFromMatrix(const Jid& mucRoom, const UserId& user, const std::string& displayName) {
    boost::asio::post(io_, [this, mucRoom, user, displayName] {
        auto r = rooms_.find(mucRoom.bareStr());
        if (r == rooms_.end()) return;
        Room& room = *r->second;
        auto it = room.puppets.find(user.str());
        if (it == room.puppets.end() || it->second.wanted == displayName) return;
        Puppet& puppet = it->second;
        puppet.wanted = displayName;
        puppet.nickAttempt = 0;
        if (!puppet.joined) return;  // the join under way keeps its nick; the next one takes this
        std::string nick = nickAttempt(puppet.wanted, puppet.fallback, 0);
        auto occupant = room.jid.withResource(nick);
        if (!occupant || nick == puppet.nick) return;
        log_.info("renaming a Matrix user's occupant", {{"room", mucRoom.bareStr()}, {"user", user.str()},
                                                         {"from", puppet.nick}, {"to", nick}});
        Element presence("presence", std::string(ns::kComponentAccept));
        presence.setAttr("from", puppet.jid.str()).setAttr("to", occupant->str());
        puppet.renamingTo = nick;
        connection_.send(std::move(presence));
    });
}

void MucPortals::setSubjectFromMatrix(const Jid& mucRoom, const std::string& subject, const std::string& stanzaId) {
    boost::asio::post(io_, [this, mucRoom, subject, stanzaId] {
        Room& room = roomState(mucRoom);
        if (room.state != Room::State::Joined) return;
        // What the room sends back is then no change, so it does not come back into Matrix.
        room.subject = subject;
        Element message("message", std::string(ns::kComponentAccept));
        message.setAttr("from", botJid().str()).setAttr("to", mucRoom.bareStr()).setAttr("type", "groupchat");
        message.setAttr("id", stanzaId);
        message.addChild("subject", std::string(ns::kComponentAccept)).addText(subject);
        connection_.send(std::move(message));
    });
}

void MucPortals::leaveFromMatrix(const Jid& mucRoom, const UserId& user) {
    boost::asio::post(io_, [this, mucRoom, user] {
        auto r = rooms_.find(mucRoom.bareStr());
        if (r == rooms_.end()) return;
        Room& room = *r->second;
        auto it = room.puppets.find(user.str());
        if (it == room.puppets.end()) return;
        if (auto occupant = room.jid.withResource(it->second.nick)) {
            Element presence("presence", std::string(ns::kComponentAccept));
            presence.setAttr("from", it->second.jid.str()).setAttr("to", occupant->str()).setAttr("type", "unavailable");
            connection_.send(std::move(presence));
        }
        failPuppet(room, user.str(), Error::permanent("xmpp_left", "left the room before the MUC let them in"));
    });
}

void MucPortals::joinPuppet(Room& room, Puppet& puppet) {
    puppet.nick = nickAttempt(puppet.wanted, puppet.fallback, puppet.nickAttempt);
    auto occupant = room.jid.withResource(puppet.nick);
    if (!occupant) occupant = room.jid.withResource(puppet.nick = nickAttempt(puppet.fallback, "matrix", puppet.nickAttempt));
    if (!occupant) return;  // the fallback is a user id's localpart: always a valid resource
    connection_.send(mucJoinPresence(puppet.jid, *occupant));
}

void MucPortals::sendGroupchat(Room& room, const Puppet& puppet, const Outgoing& message) {
    Element stanza("message", std::string(ns::kComponentAccept));
    stanza.setAttr("from", puppet.jid.str())
        .setAttr("to", room.jid.bareStr())
        .setAttr("type", "groupchat")
        .setAttr("id", message.stanzaId);
    if (message.retracts) {
        stanza.addChild("retract", std::string(ns::kRetract)).setAttr("id", *message.retracts);
        stanza.addChild("fallback", std::string(ns::kFallback)).setAttr("for", std::string(ns::kRetract));
    }
    if (message.reactions) stanza.addChild(reactionsElement(message.reactions->target, message.reactions->keys));
    if (!message.body.text.empty()) stanza.addChild("body", std::string(ns::kComponentAccept)).addText(message.body.text);
    markUnstyled(stanza, message.body);
    if (message.replyTo) {
        if (auto target = stanzaIdOf(room, message.replyTo->event, message.replyTo->mappedId)) {
            Element& reply = stanza.addChild("reply", std::string(ns::kReply));
            if (auto author = occupantJidOf(room, *target, message.replyTo->event)) reply.setAttr("to", author->str());
            reply.setAttr("id", *target);
        }
    }
    // The room's reflection keeps it (XEP-0359 §3.1): how it is known as ours when it comes back.
    stanza.addChild("origin-id", std::string(ns::kStanzaIds)).setAttr("id", message.stanzaId);
    if (message.replaces) stanza.addChild("replace", std::string(ns::kCorrection)).setAttr("id", *message.replaces);
    if (message.retracts || message.reactions) stanza.addChild("store", std::string(ns::kHints));
    room.awaitingReflection.expect(message.stanzaId, EchoOrigin{message.room, message.event}, message);
    connection_.send(std::move(stanza));
}

// The puppet is gone (refused, left, kicked): what it still had to send is reported.
void MucPortals::failPuppet(Room& room, const std::string& user, const Error& error) {
    auto it = room.puppets.find(user);
    if (it == room.puppets.end()) return;
    std::vector<Outgoing> pending = std::move(it->second.pending);
    room.puppets.erase(it);
    for (const Outgoing& m : pending) ctx_.reportDeliveryFailure(m.room, m.event, error);
}

bool MucPortals::isPuppetNick(const Room& room, const std::string& nick) const {
    for (const auto& [user, puppet] : room.puppets)
        if (puppet.nick == nick || (!puppet.renamingTo.empty() && puppet.renamingTo == nick)) return true;
    return false;
}

void MucPortals::onPuppetPresence(Room& room, Puppet& puppet, const Element& stanza) {
    std::string user;
    for (const auto& [id, p] : room.puppets)
        if (&p == &puppet) user = id;
    auto from = Jid::parse(stanza.attrOr("from"));
    if (stanza.attrOr("type") == "error") {
        if (!puppet.renamingTo.empty() && from->resource() == puppet.renamingTo) {
            log_.info("the MUC kept a Matrix user's nick", {{"room", room.jid.bareStr()}, {"user", user},
                                                            {"nick", puppet.renamingTo}});
            puppet.renamingTo.clear();
            return;
        }
        if (puppet.joined || from->resource() != puppet.nick) return;
        StanzaError error = parseStanzaError(stanza).value_or(StanzaError{});
        if (error.condition == "conflict" && puppet.nickAttempt + 1 < kNickAttempts) {
            ++puppet.nickAttempt;
            joinPuppet(room, puppet);
            return;
        }
        log_.info("the MUC refused a Matrix user", {{"room", room.jid.bareStr()}, {"user", user}, {"error", describe(error)}});
        failPuppet(room, user, Error::permanent("xmpp_" + error.condition,
                                                room.jid.bareStr() + " did not let you in: " + describe(error)));
        return;
    }
    auto p = parseMucPresence(stanza);
    if (!p || !p->self) return;
    if (!p->available) {
        if (p->newNick) {
            puppet.nick = *p->newNick;
            return;
        }
        failPuppet(room, user, Error::permanent("xmpp_muc_left", "removed from " + room.jid.bareStr()));
        return;
    }
    puppet.nick = p->nick;
    if (p->nick == puppet.renamingTo) puppet.renamingTo.clear();
    if (puppet.joined) return;
    puppet.joined = true;
    for (const Outgoing& m : std::exchange(puppet.pending, {})) sendGroupchat(room, puppet, m);
}

bool MucPortals::onStanza(const Element& stanza) {
    auto from = Jid::parse(stanza.attrOr("from"));
    if (!from) return false;
    auto it = rooms_.find(from->bareStr());
    if (it == rooms_.end()) return false;
    Room& room = *it->second;
    // Each of the bridge's occupants gets its own copy: the bridge's reads the room, a Matrix
    // user's only hears about its own presence.
    auto to = Jid::parse(stanza.attrOr("to"));
    Puppet* puppet = nullptr;
    if (to && !to->local().empty())
        for (auto& [user, p] : room.puppets)
            if (p.jid.bare() == to->bare()) puppet = &p;
    if (stanza.name() == "presence") {
        if (puppet) onPuppetPresence(room, *puppet, stanza);
        else if (to && !to->local().empty()) return true;  // a Matrix user's occupant of old
        else onPresence(room, stanza);
        return true;
    }
    if (stanza.name() == "message" && stanza.attrOr("type") == "groupchat") {
        if (!to || to->local().empty()) onMessage(room, stanza);
        return true;
    }
    return false;  // errors and private messages: the connector's
}

void MucPortals::onPresence(Room& room, const Element& stanza) {
    auto from = Jid::parse(stanza.attrOr("from"));
    if (stanza.attrOr("type") == "error") {
        if (room.state != Room::State::Joining || from->resource() != room.nick) return;
        StanzaError error = parseStanzaError(stanza).value_or(StanzaError{});
        if (error.condition == "conflict" && room.nickAttempt + 1 < kNickAttempts) {
            ++room.nickAttempt;
            join(room);
            return;
        }
        failJoin(room, describe(error));
        return;
    }
    auto p = parseMucPresence(stanza);
    if (!p) return;
    RemoteRoomId remote = mucRoomId(room.jid);
    if (p->self) {
        if (!p->available) {
            if (p->newNick) {
                room.nick = *p->newNick;
                return;
            }
            log_.warn("the bridge is no longer in the MUC", {{"room", room.jid.bareStr()}});
            if (room.state == Room::State::Joining) failJoin(room, "left during the join");
            room.state = Room::State::Left;
            return;
        }
        room.nick = p->nick;
        room.selfSeen = true;
        if (p->roomCreated) {
            // The join made a new room, locked until its owner configures it (XEP-0045 §10.1.2):
            // an instant room, with the service's defaults.
            Element iq("iq", std::string(ns::kComponentAccept));
            iq.setAttr("type", "set").setAttr("to", room.jid.bareStr()).setAttr("from", botJid().str());
            iq.addChild("query", std::string(ns::kMucOwner)).addChild("x", std::string(ns::kDataForms)).setAttr("type", "submit");
            connection_.sendIq(std::move(iq), [this, jid = room.jid](const IqResponse& r) {
                if (r.outcome != IqOutcome::Result)
                    log_.warn("could not unlock the new MUC", {{"room", jid.bareStr()}, {"error", describe(r.error)}});
            });
        }
        return;
    }
    if (p->nick == room.nick || isPuppetNick(room, p->nick)) return;
    if (!p->available) {
        auto known = room.occupants.find(p->nick);
        if (known == room.occupants.end()) return;
        Occupant occupant = known->second;
        room.occupants.erase(known);
        if (p->newNick) {
            // Same person, new nick: the ghost stays and is renamed.
            occupant.nick = *p->newNick;
            room.occupants[occupant.nick] = occupant;
            ctx_.queueRemote(RemoteProfile{senderFor(occupant)});
            return;
        }
        ctx_.queueRemote(RemoteMembership{.room = remote,
                                          .user = senderFor(occupant),
                                          .change = RemoteMembership::Change::Leave,
                                          .actor = std::nullopt,
                                          .reason = {}});
        return;
    }
    if (room.occupants.count(p->nick)) return;  // a status change, not a join
    room.occupants[p->nick] = Occupant{occupantIdentity(room.jid, p->nick, p->occupantId, p->realJid), p->nick};
    ctx_.queueRemote(RemoteMembership{.room = remote,
                                      .user = senderOf(room, p->nick),
                                      .change = RemoteMembership::Change::Join,
                                      .actor = std::nullopt,
                                      .reason = {}});
}

void MucPortals::onMessage(Room& room, const Element& stanza) {
    auto from = Jid::parse(stanza.attrOr("from"));
    const std::string& nick = from->resource();
    auto body = stanza.childText("body", ns::kComponentAccept);
    auto subject = stanza.childText("subject", ns::kComponentAccept);
    if (subject && !body) {
        // The subject ends the join (XEP-0045 §7.2.15); later, it is a change.
        bool changed = *subject != room.subject;
        room.subject = *subject;
        if (room.state == Room::State::Joining && room.selfSeen) {
            joined(room);
        } else if (room.state == Room::State::Joined && changed) {
            std::optional<RemoteSender> actor;
            if (!nick.empty() && nick != room.nick) actor = senderOf(room, nick);
            ctx_.queueRemote(RemoteRoomUpdate{.room = mucRoomId(room.jid), .actor = actor, .name = std::nullopt,
                                              .topic = *subject});
        }
        return;
    }
    if (room.state != Room::State::Joined) return;
    if (nick.empty()) {
        onRoomMessage(room, stanza);
        return;
    }
    if (isPuppetNick(room, nick)) {
        onReflection(room, stanza);
        return;
    }
    if (const Element* retract = stanza.child("retract", ns::kRetract); retract && nick != room.nick) {
        // In a MUC a retraction names the room's stanza id of the line (XEP-0424 §5), and
        // only its author may retract it.
        std::string target(retract->attrOr("id"));
        RemoteSender sender = senderOf(room, nick);
        auto author = room.authorOf.find(target);
        if (author != room.authorOf.end() && author->second == sender.ghostId)
            ctx_.queueRemote(RemoteRedaction{.room = mucRoomId(room.jid), .sender = sender,
                                             .target = RemoteMessageId(target), .reason = {}});
        return;
    }
    if (nick == room.nick) return;  // the bridge's own occupant
    if (const Element* reactions = stanza.child("reactions", kReactionsNs)) {
        if (auto id = roomStanzaId(stanza, room.jid); id && !room.seen.insert(*id)) return;
        onReactions(room, senderOf(room, nick), *reactions);
        return;
    }
    if (!body || body->empty()) return;
    auto stanzaId = roomStanzaId(stanza, room.jid);
    // Without the room's stanza id the message cannot be recognised when it comes again.
    std::string id = stanzaId ? *stanzaId : "n/" + nick + "/" + std::string(stanza.attrOr("id"));
    RemoteRoomId remote = mucRoomId(room.jid);
    if (!room.seen.insert(id)) return;
    if (stanzaId && ctx_.eventMappings().eventFor(remote, RemoteMessageId(id))) return;
    RemoteSender sender = senderOf(room, nick);
    std::string senderId = std::string(stanza.attrOr("id"));
    if (const Element* replace = stanza.child("replace", ns::kCorrection)) {
        // A correction names the first version's id (XEP-0308 §4), by the same sender only.
        auto target = room.bySenderId.find(sender.ghostId + "/" + std::string(replace->attrOr("id")));
        if (target != room.bySenderId.end()) {
            ctx_.queueRemote(RemoteEdit{.room = remote, .sender = sender, .target = RemoteMessageId(target->second),
                                        .newBody = *body, .newHtml = matrixHtmlFor(stanza, *body)});
            return;
        }
    }
    if (!senderId.empty()) {
        std::string key = sender.ghostId + "/" + senderId;
        if (room.bySenderId.emplace(key, id).second) room.bySenderIdOrder.push_back(key);
        while (room.bySenderIdOrder.size() > 10'000) {
            room.bySenderId.erase(room.bySenderIdOrder.front());
            room.bySenderIdOrder.pop_front();
        }
    }
    if (room.authorOf.emplace(id, sender.ghostId).second) room.authorOrder.push_back(id);
    while (room.authorOrder.size() > 10'000) {
        room.authorOf.erase(room.authorOrder.front());
        room.authorOrder.pop_front();
    }
    RemoteMessage message;
    message.portal = portalInfo(room);
    message.sender = std::move(sender);
    message.id = RemoteMessageId(id);
    message.kind = MessageKind::Text;
    // A reply (XEP-0461) in a MUC names the room's stanza id of the line.
    if (const Element* reply = stanza.child("reply", ns::kReply); reply && !reply->attrOr("id").empty())
        message.replyTo = RemoteMessageId(std::string(reply->attrOr("id")));
    message.body = textWithoutReplyFallback(stanza, *body);
    message.html = matrixHtmlFor(stanza, message.body);
    ctx_.queueRemote(std::move(message));
}

// A Matrix user's line coming back from the room: its event is now known by the room's
// stanza id too, and a redaction that waited for that id goes out.
void MucPortals::onReflection(Room& room, const Element& stanza) {
    auto stanzaId = roomStanzaId(stanza, room.jid);
    const Element* origin = stanza.child("origin-id", ns::kStanzaIds);
    std::string ours = origin ? std::string(origin->attrOr("id")) : std::string(stanza.attrOr("id"));
    auto sent = room.awaitingReflection.match(ours);
    if (!sent) sent = room.awaitingReflection.match(std::string(stanza.attrOr("id")));
    if (!sent) return;
    Outgoing line = std::move(sent->payload);
    if (!stanzaId) return;
    room.seen.insert(*stanzaId);
    if (line.retracts || line.reactions) return;  // not lines of their own
    ctx_.eventMappings().map(line.room, line.event, mucRoomId(room.jid), RemoteMessageId(*stanzaId));
    rememberMatrixLine(room, line, *stanzaId);
    auto waiting = room.redactWhenReflected.find(ours);
    if (waiting != room.redactWhenReflected.end()) {
        Redaction redaction = std::move(waiting->second);
        room.redactWhenReflected.erase(waiting);
        redact(room, redaction, *stanzaId);
    }
}

// A message from the room itself. A moderator's retraction (XEP-0425) of an occupant's line
// redacts its event as the author's own ghost (anyone may redact their own event, and
// ghosts have no power to redact others'), the reason naming the moderator.
void MucPortals::onRoomMessage(Room& room, const Element& stanza) {
    const Element* retract = stanza.child("retract", ns::kRetract);
    const Element* moderated = retract ? retract->child("moderated", ns::kModerate) : nullptr;
    if (!moderated) return;
    std::string target(retract->attrOr("id"));
    auto author = room.authorOf.find(target);
    if (author == room.authorOf.end()) {
        log_.debug("moderation of a line the bridge did not bridge from XMPP, ignored",
                   {{"room", room.jid.bareStr()}, {"stanza_id", target}});
        return;
    }
    auto by = Jid::parse(moderated->attrOr("by"));
    std::string reason = "removed by a moderator of " + room.jid.bareStr();
    if (by && by->bare() == room.jid && !by->resource().empty()) reason += " (" + by->resource() + ")";
    if (auto why = retract->childText("reason", ns::kRetract); why && !why->empty()) reason += ": " + *why;
    ctx_.queueRemote(RemoteRedaction{.room = mucRoomId(room.jid),
                                     .sender = RemoteSender{RemoteUserId(author->second), author->second, std::nullopt,
                                                            std::nullopt},
                                     .target = RemoteMessageId(target),
                                     .reason = reason});
}

// An occupant's reactions (XEP-0444) to a line: the whole set they have now. What is new is
// a reaction from their ghost, what is gone is taken back; each reaction is known by
// "r/<ghost id>/<line's stanza id>/<key>", so taking it back finds its event.
void MucPortals::onReactions(Room& room, const RemoteSender& sender, const Element& reactions) {
    std::string target(reactions.attrOr("id"));
    if (target.empty()) return;
    ReactionSets::Change change = room.reactions.replace(sender.ghostId, target, readReactions(reactions));
    RemoteRoomId remote = mucRoomId(room.jid);
    auto reactionId = [&](const std::string& key) { return RemoteMessageId("r/" + sender.ghostId + "/" + target + "/" + key); };
    for (const std::string& key : change.removed)
        ctx_.queueRemote(RemoteReaction{.room = remote, .sender = sender, .target = RemoteMessageId(target),
                                        .id = reactionId(key), .key = key, .removed = true});
    for (const std::string& key : change.added)
        ctx_.queueRemote(RemoteReaction{.room = remote, .sender = sender, .target = RemoteMessageId(target),
                                        .id = reactionId(key), .key = key, .removed = false});
}

}  // namespace mxbridge::xmpp
