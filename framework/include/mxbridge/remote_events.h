// What a bridge tells the framework about its network. One call, BridgeContext::queueRemote,
// takes any of these; the framework finds or creates the portal and the ghost, diffs
// profiles, and sends through the durable outbox in order per room.
// In optional fields, std::nullopt means "unchanged / unknown", never "clear".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "mxbridge/ids.h"
#include "mxbridge/matrix_events.h"

namespace mxbridge {

// A remote user, as a ghost. `ghostId` fills the `{id}` of the user template; the framework
// escapes characters a Matrix localpart may not hold, so any string is fine, but it must stay
// stable for the same person (it names a Matrix account).
struct RemoteSender {
    RemoteUserId id;
    std::string ghostId;
    std::optional<std::string> displayName;
    std::optional<std::string> avatarMxc;
};

// A remote room, as a portal. The framework creates the Matrix room on first use when the
// bridge allows it (`createIfMissing`), with the m.bridge state event, and links it.
struct PortalInfo {
    RemoteRoomId id;
    std::string name;
    std::string topic;
    std::string aliasId;     // fills the alias template's {id}; empty: no alias
    bool isPublic = false;   // join rule public, listed nowhere
    bool createIfMissing = true;
    // A direct chat with one Matrix user (a private message on the network): the room is
    // created with is_direct and that user invited.
    std::optional<UserId> directWith;
    // Matrix users invited when the room is created, without is_direct: the owner of a
    // group chat that only their own remote account is in (a libpurple chat).
    std::vector<UserId> invite;
};

// Bytes to upload for a message with an attachment.
struct RemoteMedia {
    std::string bytes;
    std::string mimeType;
    std::string fileName;
};

struct RemoteMessage {
    PortalInfo portal;
    RemoteSender sender;
    RemoteMessageId id;  // mapped to the Matrix event, for edits, replies, reactions
    MessageKind kind = MessageKind::Text;
    std::string body;
    std::optional<std::string> html;
    std::optional<RemoteMessageId> replyTo;
    std::optional<RemoteMedia> media;
    std::optional<int64_t> timestampMs;  // for backfill: sent with ?ts= (timestamp massaging)
};

struct RemoteEdit {
    RemoteRoomId room;
    RemoteSender sender;
    RemoteMessageId target;
    std::string newBody;
    std::optional<std::string> newHtml;
};

struct RemoteRedaction {
    RemoteRoomId room;
    RemoteSender sender;
    RemoteMessageId target;
    std::string reason;
};

struct RemoteReaction {
    RemoteRoomId room;
    RemoteSender sender;
    RemoteMessageId target;
    RemoteMessageId id;
    std::string key;
    bool removed = false;  // true: take the reaction back
};

struct RemoteMembership {
    enum class Change { Join, Leave, Kick, Ban, Unban };
    RemoteRoomId room;
    RemoteSender user;
    Change change = Change::Join;
    std::optional<RemoteSender> actor;  // who kicked or banned
    std::string reason;
};

// Name or topic changed on the network.
struct RemoteRoomUpdate {
    RemoteRoomId room;
    std::optional<RemoteSender> actor;
    std::optional<std::string> name;
    std::optional<std::string> topic;
};

// Remote ranks (IRC ops/voice…) as Matrix power levels for ghosts.
struct RemotePowerLevels {
    RemoteRoomId room;
    std::vector<std::pair<RemoteSender, int>> levels;
};

struct RemoteTyping {
    RemoteRoomId room;
    RemoteSender sender;
    bool typing = true;
};

// A profile change outside any room (nick change on IRC): display name and avatar of the
// ghost are updated, only where they differ from what was last set.
struct RemoteProfile {
    RemoteSender sender;
};

using RemoteEvent = std::variant<RemoteMessage, RemoteEdit, RemoteRedaction, RemoteReaction,
                                 RemoteMembership, RemoteRoomUpdate, RemotePowerLevels,
                                 RemoteTyping, RemoteProfile>;

}  // namespace mxbridge
