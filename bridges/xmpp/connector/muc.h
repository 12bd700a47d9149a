// The rules of MUC portals (XEP-0045) that need no connection: which room an alias names,
// who an occupant is as a ghost, what a MUC presence says, which stanza-id (XEP-0359) the
// room gave a message, the nick to try after a conflict. The connector (muc_portals.*) uses
// them on its loop; each is unit-tested alone.
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "mxbridge/xmpp/element.h"
#include "mxbridge/xmpp/jid.h"

namespace mxbridge::xmpp {

namespace ns {
inline constexpr std::string_view kMuc = "http://jabber.org/protocol/muc";            // XEP-0045
inline constexpr std::string_view kMucUser = "http://jabber.org/protocol/muc#user";   // XEP-0045
inline constexpr std::string_view kMucOwner = "http://jabber.org/protocol/muc#owner"; // XEP-0045
inline constexpr std::string_view kDataForms = "jabber:x:data";                       // XEP-0004
inline constexpr std::string_view kStanzaIds = "urn:xmpp:sid:0";                      // XEP-0359
inline constexpr std::string_view kOccupantId = "urn:xmpp:occupant-id:0";             // XEP-0421
inline constexpr std::string_view kCorrection = "urn:xmpp:message-correct:0";         // XEP-0308
inline constexpr std::string_view kRetract = "urn:xmpp:message-retract:1";            // XEP-0424
inline constexpr std::string_view kModerate = "urn:xmpp:message-moderate:1";          // XEP-0425
inline constexpr std::string_view kFallback = "urn:xmpp:fallback:0";                  // XEP-0428
inline constexpr std::string_view kHints = "urn:xmpp:hints";                          // XEP-0334
inline constexpr std::string_view kReply = "urn:xmpp:reply:0";                        // XEP-0461
}  // namespace ns

// A Matrix alias localpart for a MUC, e.g. "xmpp_{room}_{service}": `{room}` is the room's
// localpart, `{service}` the MUC service's domain, each exactly once, with text between them.
class MucAliasTemplate {
public:
    // Nullopt (with the reason in `why`) when a placeholder is missing or doubled, or the
    // text between them holds only characters a domain may hold (letters, digits, '.', '-'):
    // nothing would tell where the service ends.
    static std::optional<MucAliasTemplate> parse(std::string_view text, std::string* why = nullptr);

    // The room `localpart` names; nullopt when it does not fit the template or names no room
    // JID. A room may hold the text between the placeholders, a domain may not, so the
    // service is the shortest possible tail (or head).
    std::optional<Jid> roomFor(std::string_view localpart) const;
    // The alias localpart of `room` (a bare JID with a localpart).
    std::string localpartFor(const Jid& room) const;
    const std::string& text() const { return text_; }

private:
    std::string text_;
    std::string prefix_, middle_, suffix_;
    bool roomFirst_ = true;
};

// Who a MUC occupant is, for a ghost: the room's occupant id (XEP-0421: stable per person
// and room, whatever their nick) when it gives one, else their real bare JID when the room
// shows it, else the occupant JID room@service/nick (which a nick change does not keep).
struct OccupantIdentity {
    std::string remoteUserId;  // also the ghost id
};
OccupantIdentity occupantIdentity(const Jid& room, std::string_view nick,
                                  std::optional<std::string_view> occupantId,
                                  std::optional<std::string_view> realJid);

// What a presence from room@service/nick says (XEP-0045 §7.2 and §9.6).
struct MucPresence {
    std::string nick;                       // the resource of 'from'
    bool available = true;                  // false: type='unavailable' (left, or a nick change)
    bool self = false;                      // status 110: about the bridge's own occupant
    bool roomCreated = false;               // status 201: the join created the room (locked)
    std::optional<std::string> newNick;     // status 303 with item/@nick: a nick change
    std::optional<std::string> occupantId;  // XEP-0421
    std::optional<std::string> realJid;     // item/@jid, bare, when the room shows it
    std::set<int> statuses;
};
// Nullopt for a presence that is not a MUC occupant's (no muc#user <x/>, or an error).
std::optional<MucPresence> parseMucPresence(const Element& presence);

// The stanza id the room itself gave a groupchat message (<stanza-id by='room@service'/>);
// one claiming another 'by' could be forged by the sender and is ignored (XEP-0359 §5).
std::optional<std::string> roomStanzaId(const Element& message, const Jid& room);

// The join presence to room@service/nick from `from`: history limited to nothing (the
// portal starts at the join; catching up is for MAM).
Element mucJoinPresence(const Jid& from, const Jid& occupant);

// The nick to ask for after `attempt` conflicts (409) with `wanted`: "wanted", then
// "wanted (Matrix)", then "wanted (Matrix 2)", ... A nick the room refuses as empty after
// trimming falls back to the Matrix user id's localpart, given as `fallback`.
std::string nickAttempt(std::string_view wanted, std::string_view fallback, int attempt);

// Ids seen lately, bounded: the same message arriving twice (the room's reflection, a
// rejoin repeating history) is bridged once. Not thread-safe: used on the XMPP loop only.
class RecentIds {
public:
    explicit RecentIds(std::size_t capacity = 10'000) : capacity_(capacity) {}
    // True when `id` is new (and remembers it), false when seen.
    bool insert(const std::string& id);
    bool contains(const std::string& id) const { return ids_.count(id) > 0; }

private:
    std::size_t capacity_;
    std::set<std::string> ids_;
    std::deque<std::string> order_;
};

}  // namespace mxbridge::xmpp
