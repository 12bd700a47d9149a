// Acting as one Matrix user: the bridge bot or a ghost. Most bridges never need this
// (BridgeContext::queueRemote does the work); it is here for what queueRemote does not cover.
//
// Every call is queued in the durable outbox and returns at once: requests to the homeserver
// are sent in order per room, retried (429 waits retry_after_ms; 5xx and network errors back
// off with jitter), survive a restart, and are idempotent (sends use a stable txnId). Each call
// first ensures what it needs: the user registered, and joined to the room (invited by the
// bot when needed). Safe to call from any thread, and inside hooks (the request is then
// committed together with the event's done mark).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "mxbridge/ids.h"
#include "mxbridge/matrix_events.h"
#include "mxbridge/result.h"

namespace mxbridge {

struct OutgoingMessage {
    MessageKind kind = MessageKind::Text;
    std::string body;
    std::optional<std::string> html;       // sent as formatted_body, org.matrix.custom.html
    std::optional<EventId> replyTo;        // m.in_reply_to
    std::optional<EventId> replaces;       // an edit (m.replace) of this event
    std::optional<MediaInfo> media;        // for Image/File/Audio/Video: an uploaded mxc
    std::optional<int64_t> timestampMs;    // timestamp massaging (?ts=), for backfill
};

struct RoomCreation {
    std::string name;
    std::string topic;
    std::string aliasLocalpart;            // room_alias_name; empty: none
    bool isPublic = false;
    bool isDirect = false;
    std::vector<UserId> invite;
    // Extra initial state: (type, state_key, content). The framework adds m.bridge.
    std::vector<std::tuple<std::string, std::string, nlohmann::json>> initialState;
};

class Intent {
public:
    virtual ~Intent() = default;
    virtual const UserId& userId() const = 0;

    // Messages. `remoteId`, when given, is mapped to the resulting event id.
    virtual void sendMessage(const RoomId& room, const OutgoingMessage& message,
                             const RemoteMessageId& remoteId = RemoteMessageId()) = 0;
    virtual void sendReaction(const RoomId& room, const EventId& target, const std::string& key,
                              const RemoteMessageId& remoteId = RemoteMessageId()) = 0;
    virtual void redact(const RoomId& room, const EventId& target, const std::string& reason) = 0;
    virtual void sendState(const RoomId& room, const std::string& type,
                           const std::string& stateKey, const nlohmann::json& content) = 0;

    // Membership.
    virtual void join(const RoomId& room) = 0;
    virtual void leave(const RoomId& room, const std::string& reason = {}) = 0;
    virtual void invite(const RoomId& room, const UserId& user) = 0;
    virtual void kick(const RoomId& room, const UserId& user, const std::string& reason) = 0;
    virtual void ban(const RoomId& room, const UserId& user, const std::string& reason) = 0;

    // Room settings, as this user (needs the power to do it).
    virtual void setRoomName(const RoomId& room, const std::string& name) = 0;
    virtual void setTopic(const RoomId& room, const std::string& topic) = 0;
    // Sets these users' levels, keeping everything else in m.room.power_levels.
    virtual void setPowerLevels(const RoomId& room, const std::map<UserId, int>& levels) = 0;
    virtual void setRoomAlias(const std::string& aliasLocalpart, const RoomId& room) = 0;
    virtual void publishInDirectory(const RoomId& room, bool visible) = 0;

    // Profile: only sent when different from what this user last had.
    virtual void setDisplayName(const std::string& name) = 0;
    virtual void setAvatarUrl(const std::string& mxcUrl) = 0;

    // Ephemeral: not queued durably (stale typing is worse than none), but still ordered.
    virtual void setTyping(const RoomId& room, bool typing,
                           std::chrono::milliseconds timeout = std::chrono::seconds(30)) = 0;
    virtual void markRead(const RoomId& room, const EventId& event) = 0;
    virtual void setPresence(const std::string& presence, const std::string& statusMessage = {}) = 0;

    // Calls whose answer the bridge needs. The callback runs on a framework thread, once.
    virtual void createRoom(const RoomCreation& creation,
                            std::function<void(Result<RoomId>)> done) = 0;
    // Authenticated media endpoints (spec v1.11) with fallback to the old ones.
    virtual void uploadMedia(const std::string& bytes, const std::string& mimeType,
                             const std::string& fileName,
                             std::function<void(Result<std::string>)> done) = 0;  // mxc URI
    virtual void downloadMedia(const std::string& mxcUrl,
                               std::function<void(Result<std::string>)> done) = 0;  // bytes
};

}  // namespace mxbridge
