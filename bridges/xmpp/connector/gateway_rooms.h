// The rules of the gateway MUC service (XEP-0045) that need no connection: XMPP users join an
// existing Matrix room as a MUC, `<alias localpart>#<homeserver>@<component>` standing for
// `#<alias localpart>:<homeserver>`. Which alias a room JID names, the nick a Matrix member
// has there, the presences occupants see, and what a refused join tells the XMPP user. The
// service itself (muc_gateway.*) uses them on the XMPP loop; each is unit-tested alone.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "mxbridge/result.h"
#include "mxbridge/xmpp/element.h"
#include "mxbridge/xmpp/jid.h"
#include "mxbridge/xmpp/stanza.h"

namespace mxbridge::xmpp {

// A room JID's localpart for a Matrix alias, e.g. "{alias}#{server}": `{alias}` is the alias
// localpart, `{server}` its homeserver, the alias first, with text between them that holds a
// character no server name holds (server names are letters, digits, '.', '-', ':', '[', ']').
// The JID localpart is XEP-0106-escaped, so an alias holding '@' or a server with a port
// (':') can be named: #a@b:hs:8448 is a\40b#hs\3a8448@<component>.
class GatewayRoomTemplate {
public:
    static std::optional<GatewayRoomTemplate> parse(std::string_view text, std::string* why = nullptr);

    // The alias ("#lounge:hs.example") a room JID's localpart names; nullopt when it does
    // not fit the template. The server is the shortest tail: an alias may hold the text
    // between the placeholders, a server name may not.
    std::optional<std::string> aliasFor(std::string_view jidLocalpart) const;
    // The room JID's localpart for "#localpart:server"; nullopt for no alias, or one no JID
    // localpart can carry.
    std::optional<std::string> localpartFor(std::string_view alias) const;
    const std::string& text() const { return text_; }

private:
    std::string text_;
    std::string prefix_, middle_, suffix_;
};

// The nick a Matrix member has in a gateway room: their display name, or their user id's
// localpart when they have none or it cannot be a nick; `taken` nicks get " (<user id>)".
std::string matrixMemberNick(std::string_view displayName, std::string_view userId,
                             const std::set<std::string>& taken);

// An occupant's presence as the room sends it (XEP-0045 §7.2.3): from room/nick to `to`, with
// the occupant's real JID (the room is non-anonymous: Matrix ids are public to the room),
// affiliation member and role participant (or none when leaving), and these status codes.
Element occupantPresence(const Jid& occupant, const Jid& to, const std::string& realJid, bool available,
                         const std::set<int>& statuses = {});

// What a refused join tells the XMPP user (XEP-0045 §7.2.5-§7.2.10), from the framework's
// error: no such alias is item-not-found, a room that does not let them in forbidden, a
// homeserver that did not answer service-unavailable (wait), with the homeserver's words.
StanzaError joinRefusal(const Error& error);

// The subject message a joining occupant gets last (§7.2.15): <subject/> even when empty.
Element subjectMessage(const Jid& room, const Jid& to, const std::string& subject);

// How many lines of history a join presence asks for (§7.2.14): <history maxstanzas='n'/>,
// none for maxchars='0', else `usual`; never more than `most`. `seconds` and `since` are not
// read (every line asked for is sent, however old).
std::size_t historyWanted(const Element& joinPresence, std::size_t usual = 20, std::size_t most = 50);

// A UTC time in milliseconds since 1970 as XEP-0082 writes it: 2026-12-07T23:57:19.123Z.
std::string xmppTimestamp(std::int64_t ms);

// A line of discussion history (§7.2.14): groupchat from its author's occupant JID, with the
// time it was said (XEP-0203 <delay/> from the room) and the room's stanza id.
Element historyMessage(const Jid& author, const Jid& to, const std::string& body, bool unstyled,
                       const std::string& stanzaId, std::int64_t timestampMs);

}  // namespace mxbridge::xmpp
