// The XMPP connector, first slice: the component connects to the XMPP server, and a chat
// message an XMPP user sends to a Matrix user's JID at the component (see matrix_jids.h)
// arrives in a direct chat between that Matrix user and the sender's ghost; what the Matrix
// user answers there goes back as a chat message from their JID, and if the XMPP server
// bounces it (an error stanza) or it cannot be sent, the Matrix sender is told in the room.
// A Matrix alias naming a MUC makes the component join it, and the room becomes a portal
// (muc_portals.h). Text with its formatting (message_text.h).
#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "matrix_jids.h"
#include "muc_gateway.h"
#include "muc_portals.h"
#include "mxbridge/connector.h"
#include "mxbridge/fan_out.h"
#include "mxbridge/xmpp/component_connection.h"
#include "mxbridge/xmpp/jid.h"
#include "mxbridge/xmpp/namespaces.h"
#include "mxbridge/xmpp/stanza.h"
#include "xmpp_config.h"

namespace mxbridge::xmpp {

namespace {

// A direct chat's remote room: "chat/<xmpp bare jid>/<matrix user id>" (bare JIDs hold no '/').
RemoteRoomId chatRoom(const Jid& xmppUser, const std::string& matrixUser) {
    return RemoteRoomId("chat/" + xmppUser.bareStr() + "/" + matrixUser);
}

// The component's state as BridgeContext::reportState takes it. A refusal (a wrong secret, a
// component the server does not know) waits for the operator, so it is no transient drop;
// the server's condition is the code monitors see.
RemoteStatus remoteStatusOf(const ComponentStateChange& change) {
    RemoteState state = RemoteState::Connecting;
    switch (change.state) {
        case ComponentState::Stopped: state = RemoteState::Stopped; break;
        case ComponentState::Connecting:
        case ComponentState::Handshaking: state = RemoteState::Connecting; break;
        case ComponentState::Connected: state = RemoteState::Connected; break;
        case ComponentState::WaitingToReconnect: state = RemoteState::TransientDisconnect; break;
        case ComponentState::Refused: state = RemoteState::BadCredentials; break;
    }
    std::string code = change.streamError ? std::string(conditionName(change.streamError->condition)) : "";
    return RemoteStatus{.state = state, .reason = change.reason, .code = std::move(code)};
}

// The room's stanza id a mapped MUC line is known by, which retractions and reactions name.
// "m/…" is what the hook answered for a Matrix line, "n/…" a line the room gave no id, "r/…"
// a reaction: none of them is.
std::optional<std::string> roomStanzaIdOf(const std::optional<RemoteMessageId>& mapped) {
    if (!mapped) return std::nullopt;
    const std::string& id = mapped->str();
    if (id.rfind("m/", 0) == 0 || id.rfind("n/", 0) == 0 || id.rfind("r/", 0) == 0) return std::nullopt;
    return id;
}

// A 1:1 chat's line as XMPP knows it: the id its sender gave it, and whether that sender
// is the Matrix user (whose lines went out as "m<event id without '$'>") or the XMPP user.
struct ChatLine {
    std::string id;
    bool ours = false;
};
// From the line's mapping: "m/<event id>" for a Matrix user's line, "<bare JID>/<id>" for the
// XMPP user's.
std::optional<ChatLine> chatLineOf(const std::optional<RemoteMessageId>& mapped, const Jid& xmppUser) {
    if (!mapped) return std::nullopt;
    const std::string& id = mapped->str();
    if (id.rfind("m/$", 0) == 0) return ChatLine{.id = "m" + id.substr(3), .ours = true};
    std::string prefix = xmppUser.bareStr() + "/";
    if (id.rfind(prefix, 0) == 0 && id.size() > prefix.size()) return ChatLine{.id = id.substr(prefix.size()), .ours = false};
    return std::nullopt;
}

// The remote id of a line an XMPP user names by `id` in a 1:1 chat: theirs when the bridge
// has it mapped as theirs, else one of the Matrix user's when it has that form.
std::optional<RemoteMessageId> chatLineNamed(BridgeContext& ctx, const RemoteRoomId& chat, const Jid& xmppUser,
                                             const std::string& id) {
    if (id.empty()) return std::nullopt;
    RemoteMessageId theirs(xmppUser.bareStr() + "/" + id);
    if (ctx.eventMappings().eventFor(chat, theirs)) return theirs;
    if (id.size() > 1 && id[0] == 'm') return RemoteMessageId("m/$" + id.substr(1));
    return theirs;
}

// What a Matrix message replies to, for a MUC (the stanza id is found on the XMPP loop).
std::optional<MucPortals::Outgoing::ReplyTo> replyOf(const MatrixMessage& message) {
    if (!message.replyTo) return std::nullopt;
    return MucPortals::Outgoing::ReplyTo{.event = *message.replyTo, .mappedId = roomStanzaIdOf(message.replyToRemote)};
}

// The Matrix events sent to XMPP lately, by stanza id, so a bounce finds its sender. Bounded:
// a bounce comes within seconds; one for a message older than the last 10,000 is only logged.
class SentMessages {
public:
    struct Origin {
        RoomId room;
        EventId event;
    };

    void remember(const std::string& stanzaId, Origin origin) {
        std::lock_guard lock(mutex_);
        if (byId_.emplace(stanzaId, std::move(origin)).second) order_.push_back(stanzaId);
        while (order_.size() > kKept) {
            byId_.erase(order_.front());
            order_.pop_front();
        }
    }

    std::optional<Origin> take(const std::string& stanzaId) {
        std::lock_guard lock(mutex_);
        auto it = byId_.find(stanzaId);
        if (it == byId_.end()) return std::nullopt;
        Origin origin = std::move(it->second);
        byId_.erase(it);
        return origin;
    }

private:
    static constexpr std::size_t kKept = 10'000;
    std::mutex mutex_;
    std::map<std::string, Origin> byId_;
    std::deque<std::string> order_;
};

struct ChatRoom {
    Jid xmppUser;
    std::string matrixUser;
};

// Whether a Matrix room is a gateway room only (XMPP users in it through the MUC service):
// what the gateway does not carry yet is told to the sender rather than dropped.
bool gatewayOnly(const std::vector<RemoteRoomId>& remotes) {
    return !remotes.empty() &&
           std::all_of(remotes.begin(), remotes.end(), [](const RemoteRoomId& r) { return gatewayRoomOf(r).has_value(); });
}

std::optional<ChatRoom> parseChatRoom(const RemoteRoomId& room) {
    const std::string& s = room.str();
    if (s.rfind("chat/", 0) != 0) return std::nullopt;
    auto slash = s.find('/', 5);
    if (slash == std::string::npos) return std::nullopt;
    auto jid = Jid::parse(s.substr(5, slash - 5));
    if (!jid) return std::nullopt;
    return ChatRoom{*jid, s.substr(slash + 1)};
}

}  // namespace

class XmppConnector final : public Connector,
                            public EditHandler,
                            public RedactionHandler,
                            public ReactionHandler,
                            public TypingHandler,
                            public ConfigValidator {
public:
    ~XmppConnector() override { stop(); }

    BridgeInfo info() const override {
        return BridgeInfo{"xmpp", "XMPP as an external component: 1:1 text chats and MUC portals", "xmpp_{id}",
                          "xmpp_{id}", {"xmpp"}, "XMPP"};
    }

    void validateConfig(const ConfigSection& section) const override { parseXmppBridgeConfig(section); }

    void start(BridgeContext& context) override {
        ctx_ = &context;
        log_.emplace(context.logger("xmpp"));
        config_ = parseXmppBridgeConfig(context.config());
        if (config_.gateway.enabled) {
            // The component is also a MUC service: XMPP users join Matrix rooms through it.
            config_.component.moreIdentities.push_back(MucGateway::serviceIdentity());
            for (std::string& feature : MucGateway::serviceFeatures()) config_.component.features.push_back(feature);
        }
        ComponentHandlers handlers;
        handlers.onIq = [this](const Element& iq) { return gateway_->onIq(iq); };
        handlers.onStateChange = [this](const ComponentStateChange& change) { onState(change); };
        handlers.onStanza = [this](const Element& stanza) { onStanza(stanza); };
        handlers.onSendFailure = [this](const Element& stanza, const std::string& why) {
            log_->warn("stanza not sent to the XMPP server", {{"to", std::string(stanza.attrOr("to"))}, {"why", why}});
            tellSender(stanza, Error::permanent("xmpp_not_sent", "not delivered to XMPP: " + why));
        };
        work_.emplace(io_.get_executor());
        connection_.emplace(io_, config_.component, std::move(handlers));
        muc_.emplace(context, context.logger("xmpp.muc"), config_, io_, *connection_);
        gateway_.emplace(context, context.logger("xmpp.gateway"), config_, io_, *connection_);
        loop_ = std::thread([this] {
            for (;;) {
                try {
                    io_.run();
                    return;
                } catch (const std::exception& e) {
                    log_->error("XMPP loop handler threw; continuing", {{"error", e.what()}});
                }
            }
        });
        connection_->start();
    }

    void stop() override {
        if (!loop_.joinable()) return;
        auto done = std::make_shared<std::promise<void>>();
        auto finished = done->get_future();
        // Destroyed on its loop, as its contract asks: it closes the stream politely.
        boost::asio::post(io_, [this, done] {
            connection_.reset();
            done->set_value();
        });
        finished.wait_for(std::chrono::seconds(10));
        work_.reset();
        io_.stop();
        loop_.join();
    }

    AliasQueryAnswer onAliasQuery(const RoomAlias& alias) override {
        // Bounded: the homeserver waits on this answer (the query's own deadline is longer).
        auto portal = muc_->portalForAlias(alias, std::chrono::seconds(10));
        if (!portal) return AliasQueryAnswer::notFound();
        return AliasQueryAnswer::create(std::move(*portal));
    }

    HookResult onMatrixMessage(const MatrixMessage& message) override {
        auto from = jidLocalForMatrixUser(message.sender.str());
        if (!from) return HookResult::unsupported("this Matrix user id has no JID at the component");
        // A 1:1 line is known by the id it went out with, which the framework maps; a MUC line
        // by the room's stanza id, mapped when the room reflects it.
        return forEachRemote(message.remotes, [&](const RemoteRoomId& remote) {
            if (auto room = gatewayRoomOf(remote)) {
                // XMPP occupants know the line by its event id, the room's stanza id.
                gateway_->sendFromMatrix(*room, message);
                return HookResult::delivered(RemoteMessageId(message.event.eventId().str()));
            }
            std::string id = outgoingId(message.event.eventId());
            if (auto muc = mucRoomOf(remote)) {
                sent_.remember(id, {message.room, message.event.eventId()});
                muc_->sendFromMatrix(*muc, MucPortals::Outgoing{.room = message.room,
                                                                .event = message.event.eventId(),
                                                                .sender = message.sender,
                                                                .senderName = message.senderName,
                                                                .body = xmppBodyFor(message.body, message.html),
                                                                .stanzaId = id,
                                                                .replaces = std::nullopt,
                                                                .retracts = std::nullopt,
                                                                .reactions = std::nullopt,
                                                                .replyTo = replyOf(message)});
                return HookResult::delivered();
            }
            auto chat = parseChatRoom(remote);
            if (!chat || chat->matrixUser != message.sender.str()) return HookResult::ignored();
            Element stanza("message", std::string(ns::kComponentAccept));
            stanza.setAttr("from", *from + "@" + config_.component.jid)
                .setAttr("to", chat->xmppUser.bareStr())
                .setAttr("type", "chat")
                .setAttr("id", id);
            XmppBody body = xmppBodyFor(message.body, message.html);
            stanza.addChild("body", std::string(ns::kComponentAccept)).addText(body.text);
            markUnstyled(stanza, body);
            if (auto line = chatLineOf(message.replyToRemote, chat->xmppUser)) {
                // A reply (XEP-0461) to the XMPP user's line, or to the Matrix user's own.
                stanza.addChild("reply", std::string(ns::kReply))
                    .setAttr("to", line->ours ? *from + "@" + config_.component.jid : chat->xmppUser.bareStr())
                    .setAttr("id", line->id);
            }
            sent_.remember(id, {message.room, message.event.eventId()});
            connection_->send(std::move(stanza));
            return HookResult::delivered(RemoteMessageId("m/" + message.event.eventId().str()));
        });
    }

    // A Matrix edit of a line the bridge sent to a MUC: a correction (XEP-0308) of it there.
    HookResult onMatrixEdit(const MatrixEdit& edit) override {
        if (gatewayOnly(edit.remotes)) return HookResult::unsupported("edits do not reach XMPP users in this room yet");
        // The target went out with the id "m<event id without '$'>" (the event's own id, so
        // no lookup is needed even when its mapping is not committed yet).
        bool sent = false;
        for (const RemoteRoomId& remote : edit.remotes) {
            auto muc = mucRoomOf(remote);
            if (!muc) {
                sent = sendToChat(remote, edit.sender, edit.room, edit.event.eventId(), [&](Element& stanza) {
                    XmppBody body = xmppBodyFor(edit.newBody, edit.newHtml);
                    stanza.addChild("body", std::string(ns::kComponentAccept)).addText(body.text);
                    markUnstyled(stanza, body);
                    stanza.addChild("replace", std::string(ns::kCorrection)).setAttr("id", outgoingId(edit.target));
                }) || sent;
                continue;
            }
            std::string id = outgoingId(edit.event.eventId());
            sent_.remember(id, {edit.room, edit.event.eventId()});
            muc_->sendFromMatrix(*muc, MucPortals::Outgoing{.room = edit.room,
                                                            .event = edit.event.eventId(),
                                                            .sender = edit.sender,
                                                            .senderName = {},
                                                            .body = xmppBodyFor(edit.newBody, edit.newHtml),
                                                            .stanzaId = id,
                                                            .replaces = outgoingId(edit.target),
                                                            .retracts = std::nullopt,
                                                                .reactions = std::nullopt,
                                .replyTo = std::nullopt});
            sent = true;
        }
        if (!sent) return HookResult::ignored();
        return HookResult::delivered();
    }

    // A Matrix reaction in a MUC portal: the user's reactions to that line (XEP-0444).
    HookResult onMatrixReaction(const MatrixReaction& reaction) override {
        if (gatewayOnly(reaction.remotes))
            return HookResult::unsupported("reactions do not reach XMPP users in this room yet");
        bool sent = false;
        for (const RemoteRoomId& remote : reaction.remotes) {
            auto muc = mucRoomOf(remote);
            if (!muc) {
                auto chat = parseChatRoom(remote);
                auto line = chat ? chatLineOf(reaction.targetRemote, chat->xmppUser) : std::nullopt;
                if (!line) continue;
                std::vector<std::string> keys;
                {
                    std::lock_guard lock(chatsMutex_);
                    chatReactions_.rememberSent(reaction.event.eventId().str(),
                                                {reaction.sender.str(), remote.str() + "\n" + line->id, reaction.key});
                    keys = chatReactions_.add(reaction.sender.str(), remote.str() + "\n" + line->id, reaction.key);
                }
                sent = sendChatReactions(remote, reaction.sender, reaction.room, reaction.event.eventId(), line->id,
                                         keys) || sent;
                continue;
            }
            muc_->reactFromMatrix(*muc, MucPortals::Reaction{.room = reaction.room,
                                                             .event = reaction.event.eventId(),
                                                             .sender = reaction.sender,
                                                             .target = reaction.target,
                                                             .targetStanzaId = roomStanzaIdOf(reaction.targetRemote),
                                                             .key = reaction.key});
            sent = true;
        }
        if (!sent) return HookResult::ignored();
        return HookResult::delivered();
    }

    // A Matrix redaction in a MUC portal: a retraction or a moderation there (muc_portals.h).
    HookResult onMatrixRedaction(const MatrixRedaction& redaction) override {
        if (gatewayOnly(redaction.remotes))
            return HookResult::unsupported("deletions do not reach XMPP users in this room yet");
        bool sent = false;
        for (const RemoteRoomId& remote : redaction.remotes) {
            auto muc = mucRoomOf(remote);
            if (!muc) {
                sent = redactInChat(remote, redaction) || sent;
                continue;
            }
            muc_->redactFromMatrix(*muc, MucPortals::Redaction{.room = redaction.room,
                                                               .event = redaction.event.eventId(),
                                                               .sender = redaction.sender,
                                                               .target = redaction.target,
                                                               .targetStanzaId = roomStanzaIdOf(redaction.targetRemote),
                                                               .reason = redaction.reason});
            sent = true;
        }
        if (!sent) return HookResult::ignored();
        return HookResult::delivered();
    }

    // A Matrix topic change in a MUC portal: the room's subject, set by the bridge's occupant.
    HookResult onMatrixStateChange(const MatrixStateChange& change) override {
        if (!change.topic) return HookResult::ignored();
        if (ctx_->isGhost(change.sender) || change.sender == ctx_->bot().userId()) return HookResult::ignored();
        const std::string& topic = change.topic->topic;
        bool sent = false;
        for (const RemoteRoomId& remote : change.remotes) {
            if (auto room = gatewayRoomOf(remote)) {
                gateway_->subjectFromMatrix(*room, change.sender, topic);
                sent = true;
                continue;
            }
            auto muc = mucRoomOf(remote);
            if (!muc) continue;
            std::string id = outgoingId(change.event.eventId());
            sent_.remember(id, {change.room, change.event.eventId()});
            muc_->setSubjectFromMatrix(*muc, topic, id);
            sent = true;
        }
        return sent ? HookResult::delivered() : HookResult::ignored();
    }

    HookResult onMatrixMembership(const MatrixMembership& change) override {
        bool told = false;
        for (const RemoteRoomId& remote : change.remotes)
            if (auto room = gatewayRoomOf(remote)) {
                gateway_->membershipFromMatrix(*room, change);
                told = true;
            }
        if (told) return HookResult::delivered();
        if (change.isGhost || change.isBot) return HookResult::ignored();
        if (change.membership == "join" && change.prevMembership == "join") {
            // A profile change: the new display name is the user's nick in each MUC.
            for (const RemoteRoomId& remote : change.remotes)
                if (auto muc = mucRoomOf(remote)) muc_->renameFromMatrix(*muc, change.target, change.displayName);
            return HookResult::delivered();
        }
        if (change.membership != "leave" && change.membership != "ban") return HookResult::ignored();
        bool left = false;
        for (const RemoteRoomId& remote : change.remotes)
            if (auto muc = mucRoomOf(remote)) {
                muc_->leaveFromMatrix(*muc, change.target);
                left = true;
            }
        return left ? HookResult::delivered() : HookResult::ignored();
    }

    // Matrix typing in a 1:1 chat: the Matrix user's chat state (XEP-0085), sent on changes.
    HookResult onMatrixTyping(const MatrixTyping& typing) override {
        for (const RemoteRoomId& remote : typing.remotes) {
            auto chat = parseChatRoom(remote);
            if (!chat) continue;
            bool now = std::find(typing.typing.begin(), typing.typing.end(), UserId(chat->matrixUser)) != typing.typing.end();
            {
                std::lock_guard lock(chatsMutex_);
                bool& was = typingIn_[remote.str()];
                if (was == now) continue;
                was = now;
            }
            sendToChat(remote, UserId(chat->matrixUser), typing.room, EventId(), [&](Element& stanza) {
                stanza.addChild(now ? "composing" : "active", std::string(kChatStates));
                stanza.addChild("no-store", std::string(kHints));
            });
        }
        return HookResult::delivered();
    }

private:
    static constexpr std::string_view kChatStates = "http://jabber.org/protocol/chatstates";  // XEP-0085
    static constexpr std::string_view kHints = "urn:xmpp:hints";                              // XEP-0334

    // A message from a Matrix user to the XMPP user of a 1:1 chat, filled by `fill`. False
    // when `remote` is no chat of this user's. `event` (when set) hears of a bounce.
    template <typename Fill>
    bool sendToChat(const RemoteRoomId& remote, const UserId& sender, const RoomId& room, const EventId& event,
                    Fill&& fill) {
        auto chat = parseChatRoom(remote);
        auto from = jidLocalForMatrixUser(sender.str());
        if (!chat || !from || chat->matrixUser != sender.str()) return false;
        Element stanza("message", std::string(ns::kComponentAccept));
        stanza.setAttr("from", *from + "@" + config_.component.jid)
            .setAttr("to", chat->xmppUser.bareStr())
            .setAttr("type", "chat");
        if (!event.empty()) {
            std::string id = outgoingId(event);
            stanza.setAttr("id", id);
            sent_.remember(id, {room, event});
        }
        fill(stanza);
        connection_->send(std::move(stanza));
        return true;
    }

    bool sendChatReactions(const RemoteRoomId& remote, const UserId& sender, const RoomId& room, const EventId& event,
                           const std::string& line, const std::vector<std::string>& keys) {
        return sendToChat(remote, sender, room, event, [&](Element& stanza) {
            stanza.addChild(reactionsElement(line, keys));
            stanza.addChild("store", std::string(kHints));
        });
    }

    // A Matrix user's redaction in a 1:1 chat: of a reaction of theirs (the set without it
    // goes), or of their own line (retracted, XEP-0424). The XMPP user's lines stay theirs.
    bool redactInChat(const RemoteRoomId& remote, const MatrixRedaction& redaction) {
        auto chat = parseChatRoom(remote);
        if (!chat) return false;
        std::optional<ReactionSets::Sent> reaction;
        std::vector<std::string> keys;
        {
            std::lock_guard lock(chatsMutex_);
            reaction = chatReactions_.takeSent(redaction.target.str());
            if (reaction) keys = chatReactions_.remove(reaction->who, reaction->line, reaction->key);
        }
        if (reaction) {
            std::string line = reaction->line.substr(reaction->line.find('\n') + 1);
            return sendChatReactions(remote, UserId(reaction->who), redaction.room, redaction.event.eventId(), line, keys);
        }
        auto line = chatLineOf(redaction.targetRemote, chat->xmppUser);
        if (!line || !line->ours) return false;
        return sendToChat(remote, redaction.sender, redaction.room, redaction.event.eventId(), [&](Element& stanza) {
            stanza.addChild("retract", std::string(ns::kRetract)).setAttr("id", line->id);
            stanza.addChild("fallback", std::string(ns::kFallback)).setAttr("for", std::string(ns::kRetract));
            stanza.addChild("body", std::string(ns::kComponentAccept))
                .addText(std::string(kRetractFallback));
            stanza.addChild("store", std::string(kHints));
        });
    }

    void onState(const ComponentStateChange& change) {
        std::string state(stateName(change.state));
        if (change.state == ComponentState::Connected) {
            muc_->onConnected();
            log_->info("XMPP component connected", {{"state", state}, {"reason", change.reason}});
        } else {
            muc_->onDisconnected();
            if (change.state == ComponentState::Refused)
                log_->error("XMPP server refused the component", {{"state", state}, {"reason", change.reason}});
        }
        // The component is the bridge's own connection (no owner): the framework logs each
        // change, keeps the gauge and lists it in GET /_mxbridge/v1/state.
        ctx_->reportState(StateSubject{.network = config_.component.jid, .owner = UserId(), .loginId = {}},
                          remoteStatusOf(change));
    }

    // A Matrix event that did not make it to XMPP: its sender hears it in the room.
    void tellSender(const Element& stanza, const Error& error) {
        if (auto origin = sent_.take(std::string(stanza.attrOr("id"))))
            ctx_->reportDeliveryFailure(origin->room, origin->event, error);
    }

    void onStanza(const Element& stanza) {
        if (gateway_->onStanza(stanza)) return;
        if (muc_->onStanza(stanza)) return;
        if (stanza.name() != "message") return;
        std::string_view type = stanza.attrOr("type", "normal");
        if (type == "error") {
            StanzaError error = parseStanzaError(stanza).value_or(StanzaError{});
            log_->info("XMPP bounced a message", {{"from", std::string(stanza.attrOr("from"))}, {"error", describe(error)}});
            tellSender(stanza, Error::permanent("xmpp_" + error.condition,
                                                "the XMPP server returned it: " + describe(error)));
            return;
        }
        if (type != "chat" && type != "normal") return;
        auto body = stanza.childText("body", ns::kComponentAccept);
        auto from = Jid::parse(stanza.attrOr("from"));
        auto to = Jid::parse(stanza.attrOr("to"));
        if (!from || !to || to->domain() != config_.component.jid) return;
        auto matrixUser = matrixUserForJidLocal(to->local());
        if (!matrixUser || ctx_->isGhost(UserId(*matrixUser))) {
            if (!body || body->empty()) return;  // only a message is worth a bounce
            connection_->send(makeErrorReply(
                stanza, {.type = "cancel", .condition = "item-not-found",
                         .text = "no Matrix user has the address " + to->bareStr()}));
            return;
        }
        RemoteRoomId room = chatRoom(*from, *matrixUser);
        RemoteSender ghost{RemoteUserId(from->bareStr()), from->bareStr(), from->bareStr(), std::nullopt};
        if (onChatExtension(stanza, room, *from, ghost, body)) return;
        if (!body || body->empty()) return;
        RemoteMessage message;
        message.portal.id = room;
        message.portal.name = from->bareStr();
        message.portal.topic = "XMPP chat with " + from->bareStr();
        message.portal.directWith = UserId(*matrixUser);
        message.sender = RemoteSender{RemoteUserId(from->bareStr()), from->bareStr(), from->bareStr(), std::nullopt};
        std::string id(stanza.attrOr("id"));
        message.id = RemoteMessageId(from->bareStr() + "/" + (id.empty() ? "n" + std::to_string(++unnamed_) : id));
        message.kind = MessageKind::Text;
        // A reply (XEP-0461) names the line by the id its sender gave it, and its author: the
        // XMPP user, or the Matrix user (whose lines went out as "m<event id without '$'>").
        if (const Element* reply = stanza.child("reply", ns::kReply)) {
            std::string target(reply->attrOr("id"));
            auto author = Jid::parse(reply->attrOr("to"));
            bool ours = author && author->bare() == to->bare();
            if (ours && target.size() > 1 && target[0] == 'm')
                message.replyTo = RemoteMessageId("m/$" + target.substr(1));
            else if (!ours && !target.empty())
                message.replyTo = RemoteMessageId(from->bareStr() + "/" + target);
        }
        message.body = textWithoutReplyFallback(stanza, *body);
        message.html = matrixHtmlFor(stanza, message.body);
        ctx_->queueRemote(std::move(message));
    }

    // What a 1:1 message carries besides a plain line: chat states (XEP-0085), a retraction
    // (XEP-0424), reactions (XEP-0444), a correction (XEP-0308). True when it was one of
    // those and is done.
    bool onChatExtension(const Element& stanza, const RemoteRoomId& room, const Jid& from, const RemoteSender& ghost,
                         const std::optional<std::string>& body) {
        for (std::string_view state : {"composing", "paused", "active", "inactive", "gone"})
            if (stanza.child(state, kChatStates))
                ctx_->queueRemote(RemoteTyping{.room = room, .sender = ghost, .typing = state == "composing"});
        if (const Element* retract = stanza.child("retract", ns::kRetract)) {
            // Only their own lines: the ghost cannot redact the Matrix user's anyway.
            std::string id(retract->attrOr("id"));
            if (!id.empty())
                ctx_->queueRemote(RemoteRedaction{.room = room, .sender = ghost,
                                                  .target = RemoteMessageId(from.bareStr() + "/" + id), .reason = {}});
            return true;
        }
        if (const Element* reactions = stanza.child("reactions", kReactionsNs)) {
            auto line = chatLineNamed(*ctx_, room, from, std::string(reactions->attrOr("id")));
            if (!line) return true;
            ReactionSets::Change change;
            {
                std::lock_guard lock(chatsMutex_);
                change = chatReactions_.replace(from.bareStr(), room.str() + "\n" + line->str(), readReactions(*reactions));
            }
            auto id = [&](const std::string& key) { return RemoteMessageId("r/" + from.bareStr() + "/" + line->str() + "/" + key); };
            for (const std::string& key : change.removed)
                ctx_->queueRemote(RemoteReaction{.room = room, .sender = ghost, .target = *line, .id = id(key),
                                                 .key = key, .removed = true});
            for (const std::string& key : change.added)
                ctx_->queueRemote(RemoteReaction{.room = room, .sender = ghost, .target = *line, .id = id(key),
                                                 .key = key, .removed = false});
            return true;
        }
        if (const Element* replace = stanza.child("replace", ns::kCorrection); replace && body && !body->empty()) {
            std::string id(replace->attrOr("id"));
            if (id.empty()) return false;
            ctx_->queueRemote(RemoteEdit{.room = room, .sender = ghost, .target = RemoteMessageId(from.bareStr() + "/" + id),
                                         .newBody = *body, .newHtml = matrixHtmlFor(stanza, *body)});
            return true;
        }
        return false;
    }

    BridgeContext* ctx_ = nullptr;
    std::optional<Logger> log_;
    XmppBridgeConfig config_;
    boost::asio::io_context io_;
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
    std::optional<ComponentConnection> connection_;
    std::optional<MucPortals> muc_;  // on the loop, but for alias queries
    std::optional<MucGateway> gateway_;  // on the loop
    std::thread loop_;
    SentMessages sent_;
    // 1:1 chats' reactions and typing (XMPP loop and hook threads both use them).
    std::mutex chatsMutex_;
    ReactionSets chatReactions_;
    std::map<std::string, bool> typingIn_;  // by chat: the Matrix user's last chat state sent
    std::uint64_t unnamed_ = 0;
};

MXBRIDGE_BRIDGE(XmppConnector, "xmpp", "XMPP as an external component: 1:1 text chats and MUC portals");

}  // namespace mxbridge::xmpp
