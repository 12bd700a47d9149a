// MUC portals (XEP-0045): a Matrix alias naming room@service makes the component join that
// room as the bridge's occupant, and the room becomes a portal whose ghosts are its
// occupants. Groupchat messages, presences (joins, leaves, nick changes) and subject changes
// are bridged to Matrix.
//
// Threads: every room's state lives on the XMPP loop and is touched only there; an alias
// query (a framework thread) posts its request to the loop and waits for the join's outcome,
// bounded. The framework is called from the loop with nothing held.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "message_text.h"
#include "muc.h"
#include "reactions.h"
#include "mxbridge/connector.h"
#include "mxbridge/xmpp/component_connection.h"
#include "xmpp_config.h"

namespace mxbridge::xmpp {

// A MUC portal's remote room: "muc/<room bare JID>".
RemoteRoomId mucRoomId(const Jid& room);
std::optional<Jid> mucRoomOf(const RemoteRoomId& remote);

class MucPortals {
public:
    MucPortals(BridgeContext& ctx, Logger log, const XmppBridgeConfig& config, boost::asio::io_context& io,
               ComponentConnection& connection);
    ~MucPortals();
    MucPortals(const MucPortals&) = delete;
    MucPortals& operator=(const MucPortals&) = delete;

    // An alias query (framework thread): the portal for the room the alias names once the
    // bridge has joined it, waiting at most `wait`; nullopt when the alias names no room the
    // bridge may join, or the room refused the join.
    std::optional<PortalInfo> portalForAlias(const RoomAlias& alias, std::chrono::milliseconds wait);

    // A Matrix user's message for a MUC portal (a hook's thread): they join the MUC as their
    // own occupant if they are not in it, then it goes as groupchat with `stanzaId` as its
    // id and origin-id. What fails is reported to the sender through the framework.
    struct Outgoing {
        RoomId room;
        EventId event;
        UserId sender;
        std::string senderName;
        XmppBody body;
        std::string stanzaId;
        std::optional<std::string> replaces;  // a correction (XEP-0308) of the line with this id
        // A retraction (XEP-0424) of the line the room calls this (its stanza id), with a
        // fallback body for clients without retractions.
        std::optional<std::string> retracts;
        // A Matrix user's reactions (XEP-0444) to the line the room calls `target`: all of
        // them, as the XEP wants each update to carry the whole set.
        struct Reactions {
            std::string target;
            std::vector<std::string> keys;
        };
        std::optional<Reactions> reactions;
        // A reply (XEP-0461) to this Matrix event; the room's stanza id it names is looked up
        // on the loop (a Matrix user's line is known there first), else `mappedId` is used.
        struct ReplyTo {
            EventId event;
            std::optional<std::string> mappedId;
        };
        std::optional<ReplyTo> replyTo;
    };
    void sendFromMatrix(const Jid& mucRoom, Outgoing message);
    // A Matrix redaction in a MUC portal (a hook's thread). The author's own line is retracted
    // from their occupant (XEP-0424); anyone else's, an XMPP occupant's included, is moderated
    // (XEP-0425) by the bridge's occupant, which needs the moderator role there. The homeserver
    // already checked that the redacting user may do it. What the MUC refuses is reported to
    // them through the framework.
    struct Redaction {
        RoomId room;
        EventId event;   // the redaction
        UserId sender;
        EventId target;
        std::optional<std::string> targetStanzaId;  // the room's stanza id, if mapped
        std::string reason;
    };
    void redactFromMatrix(const Jid& mucRoom, Redaction redaction);
    // A Matrix reaction in a MUC portal (a hook's thread): the user's set of reactions to that
    // line, with this one added, goes from their occupant. Redacting the reaction takes it
    // out of the set again (redactFromMatrix).
    struct Reaction {
        RoomId room;
        EventId event;  // the reaction
        UserId sender;
        EventId target;
        std::optional<std::string> targetStanzaId;  // the room's stanza id, if mapped
        std::string key;
    };
    void reactFromMatrix(const Jid& mucRoom, Reaction reaction);
    // A Matrix user's new display name: their occupant takes it as nick (XEP-0045 §7.6). A
    // nick another occupant holds is kept as it was (logged).
    void renameFromMatrix(const Jid& mucRoom, const UserId& user, const std::string& displayName);
    // A Matrix topic change: the bridge's occupant sets the room's subject, with `stanzaId`
    // (a refusal, e.g. a room that lets only moderators do it, comes back as an error to it).
    void setSubjectFromMatrix(const Jid& mucRoom, const std::string& subject, const std::string& stanzaId);
    // A Matrix user left the portal: their occupant leaves the MUC.
    void leaveFromMatrix(const Jid& mucRoom, const UserId& user);

    // On the loop. True when the stanza was about a MUC (handled here).
    bool onStanza(const Element& stanza);
    // On the loop: the component (re)connected (every linked room is joined again), or lost
    // its stream (the server forgot every occupant of ours).
    void onConnected();
    void onDisconnected();

private:
    struct Occupant {
        OccupantIdentity identity;
        std::string nick;
    };
    struct Room;
    struct Puppet;

    Room& roomState(const Jid& room);
    void join(Room& room);
    void joined(Room& room);
    void failJoin(Room& room, const std::string& why);
    void onPresence(Room& room, const Element& stanza);
    void onMessage(Room& room, const Element& stanza);
    void onPuppetPresence(Room& room, Puppet& puppet, const Element& stanza);
    void onReflection(Room& room, const Element& stanza);
    void onRoomMessage(Room& room, const Element& stanza);
    void onReactions(Room& room, const RemoteSender& sender, const Element& reactions);
    void sendReactions(Room& room, const RoomId& matrixRoom, const EventId& event, const UserId& user,
                       const std::string& target, std::vector<std::string> keys);
    // The room's stanza id of a line, by its Matrix event: a Matrix user's line the room has
    // reflected, else the mapped id the hook found.
    std::optional<std::string> stanzaIdOf(const Room& room, const EventId& event,
                                          const std::optional<std::string>& mapped) const;
    // Who wrote a line now, as an occupant JID (room@service/nick), if they are still here.
    std::optional<Jid> occupantJidOf(const Room& room, const std::string& stanzaId, const EventId& event) const;
    void joinPuppet(Room& room, Puppet& puppet);
    void sendGroupchat(Room& room, const Puppet& puppet, const Outgoing& message);
    // Sends as the Matrix user's occupant, joining them first if they are not in the room.
    void sendAsPuppet(Room& room, Outgoing message);
    void redact(Room& room, const Redaction& redaction, const std::string& stanzaId);
    void moderate(Room& room, const Redaction& redaction, const std::string& stanzaId);
    // Remembers that a Matrix user's line is known to the room by `stanzaId`.
    void rememberMatrixLine(Room& room, const Outgoing& line, const std::string& stanzaId);
    void failPuppet(Room& room, const std::string& user, const Error& error);
    void sweepUnreflected();
    bool isPuppetNick(const Room& room, const std::string& nick) const;
    // The occupant with this nick as a ghost (one never seen: by its occupant JID).
    RemoteSender senderOf(const Room& room, const std::string& nick) const;
    static RemoteSender senderFor(const Occupant& occupant);
    PortalInfo portalInfo(const Room& room) const;
    Jid botJid() const;

    BridgeContext& ctx_;
    Logger log_;
    const XmppBridgeConfig& config_;
    boost::asio::io_context& io_;
    ComponentConnection& connection_;
    std::map<std::string, std::unique_ptr<Room>> rooms_;  // by room bare JID; the loop only
    boost::asio::steady_timer reflectionSweep_;
};

}  // namespace mxbridge::xmpp
