// Matrix events as a bridge sees them: classified and typed by the framework, so a connector
// never reads Matrix JSON. Each struct keeps the MatrixEvent it came from (`event`) for the
// rare field the framework does not lift out.
#pragma once

#include <cstdint>
#include <map>
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

// m.room.power_levels as the spec defines it, with its defaults where a key is absent.
struct PowerLevels {
    int64_t usersDefault = 0;
    std::map<UserId, int64_t> users;
    int64_t eventsDefault = 0;
    int64_t stateDefault = 50;
    std::map<std::string, int64_t> events;  // by event type
    int64_t ban = 50;
    int64_t kick = 50;
    int64_t redact = 50;
    int64_t invite = 0;

    int64_t levelOf(const UserId& user) const {
        auto it = users.find(user);
        return it == users.end() ? usersDefault : it->second;
    }
    // Whether `user` may send a (state) event of `type`.
    bool maySend(const UserId& user, const std::string& type, bool state) const {
        auto it = events.find(type);
        return levelOf(user) >= (it != events.end() ? it->second : state ? stateDefault : eventsDefault);
    }
    // Everyone whose level differs between `before` and this, in user id order.
    std::vector<UserId> usersChangedSince(const PowerLevels& before) const;
};

// The room changes every bridge meets, read from a state event's content by the framework:
// exactly one is set when MatrixStateChange::type is its event type with an empty state key.
// Removed values (an empty name, topic or avatar) are empty strings, not absent.
struct RoomNameChange {
    std::string name;
};
struct RoomTopicChange {
    std::string topic;
};
struct RoomAvatarChange {
    std::string mxcUrl;
};
struct JoinRuleChange {
    std::string joinRule;  // public, invite, knock, restricted, knock_restricted, private
};
struct PowerLevelsChange {
    PowerLevels levels;
    // From the event's unsigned.prev_content; the spec's defaults when the homeserver gave none.
    PowerLevels previous;
};

// Any other state event (m.room.name, m.room.topic, m.room.power_levels, …).
struct MatrixStateChange {
    const MatrixEvent& event;
    RoomId room;
    std::vector<RemoteRoomId> remotes;  // the remote rooms linked to `room`
    UserId sender;
    std::string type;
    std::string stateKey;
    // The typed change, for the room state above; read the event itself for anything else.
    std::optional<RoomNameChange> name = std::nullopt;
    std::optional<RoomTopicChange> topic = std::nullopt;
    std::optional<RoomAvatarChange> avatar = std::nullopt;
    std::optional<JoinRuleChange> joinRule = std::nullopt;
    std::optional<PowerLevelsChange> powerLevels = std::nullopt;
};

// Fills the typed change of `change` from its event (lenient: a wrongly typed field reads as
// absent, a power level given as a numeric string, as old rooms allow, as its number).
void readRoomChange(MatrixStateChange& change);
PowerLevels readPowerLevels(const nlohmann::json& content);

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
