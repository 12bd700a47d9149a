// The gateway MUC service (XEP-0045): the component is a MUC service whose rooms are existing
// Matrix rooms, `<alias localpart>#<homeserver>@<component>` standing for
// `#<alias localpart>:<homeserver>` (the template is bridge.gateway.room, gateway_rooms.h).
// An XMPP user joining from any client becomes a ghost in the Matrix room; the room's Matrix
// members are its occupants. What the XMPP occupant says goes to Matrix from their ghost and
// is reflected to every occupant (the sender too, with its id and a stanza-id); what Matrix
// members say reaches every XMPP occupant.
// Threads as in muc_portals.h: rooms live on the XMPP loop, hooks and the framework's answers
// post there.
#pragma once

#include <boost/asio/io_context.hpp>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "mxbridge/connector.h"
#include "mxbridge/xmpp/component_connection.h"
#include "mxbridge/xmpp/stanza_id.h"
#include "xmpp_config.h"

namespace mxbridge::xmpp {

// A gateway room's remote room: "gw/<room bare JID>".
RemoteRoomId gatewayRoomId(const Jid& room);
std::optional<Jid> gatewayRoomOf(const RemoteRoomId& remote);

class MucGateway {
public:
    MucGateway(BridgeContext& ctx, Logger log, const XmppBridgeConfig& config, boost::asio::io_context& io,
               ComponentConnection& connection);
    MucGateway(const MucGateway&) = delete;
    MucGateway& operator=(const MucGateway&) = delete;

    // The disco#info identity and features the component adds as a MUC service.
    static DiscoIdentity serviceIdentity();
    static std::vector<std::string> serviceFeatures();

    // On the loop: a message or presence to a room of the gateway. True when it was one
    // (handled here, errors included).
    bool onStanza(const Element& stanza);
    // On the loop: an IQ get/set for the service or one of its rooms. True when answered.
    bool onIq(const Element& iq);

    // Hook threads: a Matrix member's message in a gateway room goes to every XMPP occupant.
    void sendFromMatrix(const Jid& room, const MatrixMessage& message);
    // Hook threads: a new Matrix topic is the room's subject, set by its author's occupant.
    void subjectFromMatrix(const Jid& room, const UserId& by, const std::string& topic);
    // Hook threads: a Matrix member joined, left or took a new display name (their presence
    // to the XMPP occupants).
    void membershipFromMatrix(const Jid& room, const MatrixMembership& change);

private:
    struct Occupant {  // an XMPP user in the room
        Jid jid;       // their full JID
        std::string nick;
        UserId ghost;
    };
    struct Room {
        Jid jid;  // bare: room#hs@component
        std::string alias;
        std::optional<RoomId> matrixRoom;
        std::string name;     // m.room.name when known
        std::string subject;  // m.room.topic
        std::map<std::string, std::string> members;  // Matrix members: user id -> nick
        std::map<std::string, Occupant> occupants;   // by full JID
        std::set<std::string> joining;               // full JIDs whose join is in flight
        // XMPP occupants' lines by "<bare JID>\n<the id their client gave>": the room's
        // stanza id, for corrections (XEP-0308 names the line by the client's id). Bounded.
        std::map<std::string, std::string> lines;
        std::deque<std::string> lineOrder;
    };

    // The room a JID at the component names, with its alias; nullopt when it names none.
    std::optional<std::string> aliasOf(const Jid& to) const;
    Room& roomState(const Jid& bare, const std::string& alias);
    bool nickTaken(const Room& room, const std::string& nick, const Jid& by) const;
    std::set<std::string> nicks(const Room& room) const;
    void onJoin(const Element& presence, const Jid& from, const Jid& to, const std::string& alias);
    void joined(const Element& presence, const Jid& from, const Jid& to, Result<JoinedRoom> result);
    // An XMPP user's ghost was kicked or banned in Matrix: their occupants leave, told why.
    void putOut(Room& room, const UserId& ghost, bool banned);
    void changeNick(Room& room, const Element& presence, Occupant& occupant, const Jid& to);
    void onLeave(Room& room, const Jid& from);
    void onGroupchat(Room& room, const Element& message, const Jid& from);
    // The room's stanza id of the line `from` sent with the id `clientId`, if remembered.
    std::optional<std::string> lineOf(const Room& room, const Jid& from, const std::string& clientId) const;
    void rememberLine(Room& room, const Jid& from, const std::string& clientId, const std::string& stanzaId);
    void answerRoomInfo(const Element& iq, const Jid& room, const std::string& alias);
    // Every XMPP occupant of `room` gets `stanza`, addressed to them.
    void toEveryone(const Room& room, const Element& stanza);
    // A Matrix member's occupant JID and real JID.
    Jid memberJid(const Room& room, const std::string& nick) const;
    std::string memberRealJid(const std::string& userId) const;
    // A Matrix member's new display name: their nick changes (§7.6) when it makes another.
    void renameMember(Room& room, const std::string& userId, const std::string& displayName);
    // Who said a line of history, as a nick: a member's or occupant's, else from their id.
    std::string nickOf(const Room& room, const UserId& user) const;
    // A Matrix member's nick in the room, given one (and told to the occupants) when new.
    std::string memberNick(Room& room, const std::string& userId, const std::string& displayName);
    void refuse(const Element& stanza, StanzaError error);

    BridgeContext& ctx_;
    Logger log_;
    const XmppBridgeConfig& config_;
    boost::asio::io_context& io_;
    ComponentConnection& connection_;
    StanzaIdGenerator ids_;
    std::map<std::string, std::unique_ptr<Room>> rooms_;  // by room bare JID; the loop only
};

}  // namespace mxbridge::xmpp
