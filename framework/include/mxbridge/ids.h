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
