// The pure rules of the IRC bridge: how IRC names become stable remote ids, ghost ids and
// aliases; how modes become power levels; how Matrix text becomes IRC lines and back; when a
// QUIT is a net-split. No sockets, no framework state: everything here is unit-tested.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <mxbridge/ids.h>
#include <mxbridge/media.h>

#include "mxbridge/irc/isupport.h"

namespace mxbridge::irc {

// --- Ids -------------------------------------------------------------------------------------
// Ids are stored by the framework, so they never depend on what a server says: nicks and
// channels are folded with rfc1459 casemapping (the default of nearly every network).
std::string foldName(std::string_view name);
bool isChannelName(std::string_view name);  // '#', '&', '+' or '!' first

// "libera/#matrix": a channel portal.
RemoteRoomId channelRoomId(std::string_view network, std::string_view channel);
// "libera/bob/@alice:hs": the private chat of Matrix user `matrixUser` with IRC user `nick`.
RemoteRoomId directRoomId(std::string_view network, std::string_view nick, const UserId& matrixUser);
// "libera/bob": an IRC user.
RemoteUserId remoteUserId(std::string_view network, std::string_view nick);
// The author's (folded) nick in a remote message id "<network>/<nick>/<id>", empty if none.
std::string remoteAuthorNick(const RemoteMessageId& id);
// Whether a remote message id is one of a Matrix message sent to IRC ("<network>/<nick>/m:…").
bool isMatrixSentId(const RemoteMessageId& id);

struct RemoteTarget {
    std::string network;
    std::string channel;   // set for a channel portal
    std::string nick;      // set for a private chat
    UserId matrixUser;     // the Matrix side of a private chat
    bool isChannel() const { return !channel.empty(); }
    std::string ircTarget() const { return isChannel() ? channel : nick; }
};
std::optional<RemoteTarget> parseRemoteRoom(const RemoteRoomId& id);

// Ghost ids fill the user template's {id}: the folded nick on the default network, and
// "<network>.<nick>" on the others ('.' cannot appear in a nick, so ids never collide).
std::string ghostIdFor(std::string_view network, std::string_view nick, bool defaultNetwork);
struct GhostName {
    std::string network;
    std::string nick;
};
// `networks` are the configured names, `defaultNetwork` the one without a prefix.
std::optional<GhostName> parseGhostId(std::string_view ghostId, const std::vector<std::string>& networks,
                                      std::string_view defaultNetwork);

// Alias ids fill the alias template's {id}: "#chan" on the default network,
// "<network>_#chan" on the others (network names hold no '_', so the split is exact).
std::string aliasIdFor(std::string_view network, std::string_view channel, bool defaultNetwork);
struct AliasTarget {
    std::string network;
    std::string channel;
};
// From an alias localpart built with any template ("irc_#chan", "irc_oftc_#chan"): the
// channel starts at the first channel prefix, optionally preceded by "<network>_".
std::optional<AliasTarget> parseAliasLocalpart(std::string_view localpart,
                                               const std::vector<std::string>& networks,
                                               std::string_view defaultNetwork);

// --- Templates ---------------------------------------------------------------------------------
// "{localpart}" / "{displayname}" in `tmpl` filled and cut to an ident-safe [a-z0-9] username
// of at most `maxLen` bytes; never empty.
std::string usernameFor(std::string_view tmpl, std::string_view localpart, std::size_t maxLen = 10);
std::string fillTemplate(std::string_view tmpl, std::string_view localpart, std::string_view displayName);

// --- Modes and power levels --------------------------------------------------------------------
struct ModeChange {
    char mode = 0;
    bool add = true;
    std::string arg;  // empty for modes without an argument
};
// "+ov-b alice bob *!*@x" under the server's PREFIX and CHANMODES: which modes took which arg.
std::vector<ModeChange> parseModeChanges(std::string_view modes, const std::vector<std::string>& args,
                                         const ISupport& isupport);
// The highest level any of `modes` gives, 0 for none.
int powerForModes(const std::set<char>& modes, const std::map<char, int>& modesToPower);
// "@+alice" or "@alice!u@h" (multi-prefix, userhost-in-names) to the nick and its modes.
std::pair<std::string, std::set<char>> parseNamesEntry(std::string_view entry, const ISupport& isupport);

// --- Net-splits ----------------------------------------------------------------------------------
// "irc.a.net irc.b.net": the QUIT reason servers give for users lost in a net-split.
bool isNetsplitQuit(std::string_view reason);

// Holds net-split QUITs back: a user who returns within the window neither left nor joined
// as far as Matrix is concerned.
class NetsplitTracker {
public:
    using Clock = std::chrono::steady_clock;
    explicit NetsplitTracker(Clock::duration window) : window_(window) {}
    // A split QUIT of `nick` (folded) from `channels`: held back.
    void quit(const std::string& nick, std::set<std::string> channels, Clock::time_point now);
    // `nick` joined `channel`: true when it was only away in a split (the join is not news).
    bool rejoined(const std::string& nick, const std::string& channel);
    // Users whose window passed, with the channels they are now known to have left.
    std::vector<std::pair<std::string, std::set<std::string>>> expired(Clock::time_point now);
    std::size_t held() const { return held_.size(); }

private:
    struct Held {
        std::set<std::string> channels;
        Clock::time_point since;
    };
    Clock::duration window_;
    std::map<std::string, Held> held_;
};

// --- Link consent ------------------------------------------------------------------------------
// An op's private answer to the bridge bot about a link request: "yes <id>" or "no <id>"
// (any case, surrounding spaces ignored). Anything else is not an answer.
struct ConsentAnswer {
    bool approve = false;
    std::string id;  // lower-case
};
std::optional<ConsentAnswer> parseConsentAnswer(std::string_view text);
// A short request id for ops to type back: `length` characters of [a-z2-9] without look-alikes
// (no 0/o, 1/l/i), drawn from `random`.
std::string consentId(const std::function<uint32_t()>& random, std::size_t length = 5);

// --- Text --------------------------------------------------------------------------------------
// Matrix pills (<a href="https://matrix.to/#/@user:hs">…</a>) replaced by what `nickFor`
// answers for the user id (a ghost's nick, a puppet's nick), or their text when it has none.
std::string replacePills(std::string_view html,
                         const std::function<std::optional<std::string>(const std::string&)>& nickFor);
// Wraps whole-word mentions of `nicks` (keys) in HTML text nodes as pills to the mapped
// user ids; tags and attribute values are left alone.
std::string linkMentions(std::string_view html, const std::map<std::string, std::string>& nickToUser);
// "<name> text": a relayed line; "* name text" for an emote.
std::string relayPrefix(std::string_view displayName, bool emote);
// An http(s) link IRC users can open for an mxc URI: the bridge's signed media link
// (`links`, when the operator set media.signing_key), else the old unauthenticated download
// path under `baseUrl` (bridge.media_base_url, for homeservers that still serve it), else
// the mxc URI itself.
std::string mediaLink(std::string_view mxc, const MediaLinks* links, std::string_view baseUrl,
                      std::string_view fileName = {});
// Newlines folded into " " so a reply stays on one IRC line before splitting.
std::string condenseLines(std::string_view text);
// A Matrix reaction as the text of an IRC action: "reacted 👍 to bob" (key on one line, cut to
// 64 bytes on a UTF-8 boundary).
std::string reactionAction(std::string_view key, std::string_view authorNick);

}  // namespace mxbridge::irc
