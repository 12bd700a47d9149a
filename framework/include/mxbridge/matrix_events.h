// Matrix events as a bridge sees them: classified and typed by the framework, so a connector
// never reads Matrix JSON. Each struct keeps the MatrixEvent it came from (`event`) for the
// rare field the framework does not lift out.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mxbridge/events.h"
#include "mxbridge/ids.h"

namespace mxbridge {

enum class MessageKind { Text, Notice, Emote, Image, File, Audio, Video, Location, Sticker };

// An attachment's reference in Matrix; fetch it with Intent::downloadMedia.
struct MediaInfo {
    std::string mxcUrl;  // mxc://server/id
    std::string mimeType;
    std::string fileName;
    int64_t size = 0;  // bytes; 0 when unknown
};

// A message sent by a Matrix user (m.room.message or m.sticker), not an edit.
struct MatrixMessage {
    const MatrixEvent& event;
    RoomId room;
    std::vector<RemoteRoomId> remotes;  // the remote rooms linked to `room`
    UserId sender;
    std::string senderName;  // the sender's display name in the room, or their localpart
    MessageKind kind = MessageKind::Text;
    std::string body;        // plain text, with any reply fallback removed
    std::optional<std::string> html;  // formatted_body (org.matrix.custom.html), fallback removed
    std::optional<MediaInfo> media;
    std::optional<EventId> replyTo;
    std::optional<RemoteMessageId> replyToRemote;  // when the replied-to event was bridged
};

// An edit (m.replace relation): the new content of `target`.
struct MatrixEdit {
    const MatrixEvent& event;
    RoomId room;
    std::vector<RemoteRoomId> remotes;  // the remote rooms linked to `room`
    UserId sender;
    EventId target;
    std::optional<RemoteMessageId> targetRemote;
    std::string newBody;
    std::optional<std::string> newHtml;
};

struct MatrixRedaction {
    const MatrixEvent& event;
    RoomId room;
    std::vector<RemoteRoomId> remotes;  // the remote rooms linked to `room`
    UserId sender;
    EventId target;
    std::optional<RemoteMessageId> targetRemote;
    std::string reason;
};

struct MatrixReaction {
    const MatrixEvent& event;
    RoomId room;
    std::vector<RemoteRoomId> remotes;  // the remote rooms linked to `room`
    UserId sender;
    EventId target;
    std::optional<RemoteMessageId> targetRemote;
    std::string key;  // the emoji or text
};

// m.room.member. `isGhost` when the target is one of this bridge's ghosts.
struct MatrixMembership {
    const MatrixEvent& event;
    RoomId room;
    std::vector<RemoteRoomId> remotes;  // the remote rooms linked to `room`
    UserId sender;
    UserId target;
    std::string membership;      // join, leave, invite, ban, knock
    std::string prevMembership;  // from unsigned.prev_content, empty if unknown
    std::string displayName;
    std::string reason;
    bool isGhost = false;
    bool isBot = false;
};

// Any other state event (m.room.name, m.room.topic, m.room.power_levels, …).
struct MatrixStateChange {
    const MatrixEvent& event;
    RoomId room;
    std::vector<RemoteRoomId> remotes;  // the remote rooms linked to `room`
    UserId sender;
    std::string type;
    std::string stateKey;
};

struct MatrixTyping {
    const MatrixEvent& event;
    RoomId room;
    std::vector<RemoteRoomId> remotes;  // the remote rooms linked to `room`
    std::vector<UserId> typing;  // everyone typing now (real users only)
};

struct MatrixReceipt {
    const MatrixEvent& event;
    RoomId room;
    std::vector<RemoteRoomId> remotes;  // the remote rooms linked to `room`
    UserId user;
    EventId eventId;
    std::optional<RemoteMessageId> remote;
};

struct MatrixPresence {
    const MatrixEvent& event;
    UserId user;
    std::string presence;  // online, offline, unavailable
    std::string statusMessage;
};

}  // namespace mxbridge
