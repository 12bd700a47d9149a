// Typed identifiers. Two bare std::strings in one signature invite swapping them; these
// don't convert into each other. Remote ids are created only by connectors and are stored,
// so they must stay stable across restarts.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace mxbridge {

template <typename Tag>
class Id {
public:
    Id() = default;
    explicit Id(std::string value) : value_(std::move(value)) {}
    const std::string& str() const { return value_; }
    bool empty() const { return value_.empty(); }
    friend bool operator==(const Id& a, const Id& b) = default;
    friend auto operator<=>(const Id& a, const Id& b) = default;

private:
    std::string value_;
};

using UserId = Id<struct UserIdTag>;          // @localpart:server
using RoomId = Id<struct RoomIdTag>;          // !opaque:server
using RoomAlias = Id<struct RoomAliasTag>;    // #alias:server
using EventId = Id<struct EventIdTag>;        // $opaque
using RemoteRoomId = Id<struct RemoteRoomIdTag>;        // e.g. "libera/#matrix"
using RemoteUserId = Id<struct RemoteUserIdTag>;        // e.g. "libera/alice"
using RemoteMessageId = Id<struct RemoteMessageIdTag>;  // network's own message id

// The identifier grammar of the spec's appendices ("Identifier Grammar"), for every id that
// comes from outside (provisioning requests, bot command arguments, homeserver queries and
// transactions). Each refuses ids over 255 bytes, and every byte outside printable ASCII
// except where noted: NUL, CR/LF, spaces and other control characters never pass, so an id
// that passed cannot end a log line, an IRC line or a C string early.

// hostname [":" port]: a DNS name (letters, digits, "-", "."), a dotted-quad IPv4 address
// (each part 0-255) or a bracketed IPv6 literal; the port 1-5 digits.
bool isValidServerName(std::string_view name);
// "@localpart:server". The localpart may use the historical set (printable ASCII except
// ":", which clients must still accept, e.g. upper case) but not what the spec calls
// non-compliant: empty, or bytes outside U+0021-U+007E.
bool isValidUserId(std::string_view id);
// "!opaque:server" (room versions 1-11: opaque is printable ASCII except ":") or, from room
// version 12, "!" and the 43-character URL-safe base64 hash of the create event.
bool isValidRoomId(std::string_view id);
// "#localpart:server". The localpart may be any UTF-8 text except ":" and control or
// space characters (aliases like #café:example.org exist).
bool isValidRoomAlias(std::string_view id);
// "$opaque": "$opaque:server" in room versions 1-2, "$" and a base64 hash later; printable
// ASCII only.
bool isValidEventId(std::string_view id);

// "mxc://<server-name>/<media-id>" (spec: Content repository, "Matrix Content (mxc://)
// URIs"), the media id of [A-Za-z0-9_-]: anything else is a sender's text, never spliced
// into a URL that could then point somewhere else on the homeserver.
bool isValidMxcUri(std::string_view uri);

// "@alice:example.org" -> "alice"; empty if not a user id.
std::string_view localpartOf(std::string_view matrixId);
// "@alice:example.org" -> "example.org"; empty if there is no server part.
std::string_view serverOf(std::string_view matrixId);

}  // namespace mxbridge

template <typename Tag>
struct std::hash<mxbridge::Id<Tag>> {
    size_t operator()(const mxbridge::Id<Tag>& id) const noexcept {
        return std::hash<std::string>{}(id.str());
    }
};
