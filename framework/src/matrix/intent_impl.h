// One Matrix user the bridge acts as (the bot or a ghost): each call becomes an outbox
// request, which registers and joins the user first when needed (see Outbox).
#pragma once

#include "matrix/outbox.h"
#include "mxbridge/intent.h"

namespace mxbridge::detail {

// What a portal room's bridge info state (MSC2346: m.bridge and uk.half-shot.bridge) says.
struct BridgeStateInfo {
    std::string bridgeName;         // e.g. "irc": the state key is mxbridge://<bridgeName>/<remote room>
    std::string protocolId;         // e.g. "irc"
    std::string protocolName;       // e.g. "IRC"
    RemoteRoomId remoteRoom;        // e.g. "libera/#matrix"
    std::string channelName;        // e.g. "#matrix"; empty: the remote room id
    std::optional<UserId> creator;  // who asked for the bridge; default: the bot
};

// The m.room.message content for `message` (edits, replies, HTML, media), as sent.
nlohmann::json messageContent(const OutgoingMessage& message);
// The initial_state events carrying `info`, for createRoom.
nlohmann::json bridgeStateEvents(const BridgeStateInfo& info, const UserId& bot);

class IntentImpl final : public Intent {
public:
    IntentImpl(UserId user, Outbox& outbox) : user_(std::move(user)), outbox_(outbox) {}

    const UserId& userId() const override { return user_; }

    void sendMessage(const RoomId& room, const OutgoingMessage& message,
                     const RemoteMessageId& remoteId = RemoteMessageId()) override;
    // As sendMessage, naming the remote room for the event mapping (SentEvent::remoteRoom).
    void sendMessage(const RoomId& room, const OutgoingMessage& message, const RemoteRoomId& remoteRoom,
                     const RemoteMessageId& remoteId);
    void sendReaction(const RoomId& room, const EventId& target, const std::string& key,
                      const RemoteMessageId& remoteId = RemoteMessageId()) override;
    void redact(const RoomId& room, const EventId& target, const std::string& reason) override;
    void sendState(const RoomId& room, const std::string& type, const std::string& stateKey,
                   const nlohmann::json& content) override;

    void join(const RoomId& room) override;
    void leave(const RoomId& room, const std::string& reason = {}) override;
    void invite(const RoomId& room, const UserId& user) override;
    void kick(const RoomId& room, const UserId& user, const std::string& reason) override;
    void ban(const RoomId& room, const UserId& user, const std::string& reason) override;

    void setRoomName(const RoomId& room, const std::string& name) override;
    void setTopic(const RoomId& room, const std::string& topic) override;
    void setPowerLevels(const RoomId& room, const std::map<UserId, int>& levels) override;
    void setRoomAlias(const std::string& aliasLocalpart, const RoomId& room) override;
    void publishInDirectory(const RoomId& room, bool visible) override;

    void setDisplayName(const std::string& name) override;
    void setAvatarUrl(const std::string& mxcUrl) override;

    void setTyping(const RoomId& room, bool typing, std::chrono::milliseconds timeout) override;
    void markRead(const RoomId& room, const EventId& event) override;
    void setPresence(const std::string& presence, const std::string& statusMessage = {}) override;

    void createRoom(const RoomCreation& creation, std::function<void(Result<RoomId>)> done) override;
    // A portal: createRoom plus the bridge info state and power level 100 for the bot.
    void createPortalRoom(const RoomCreation& creation, const BridgeStateInfo& info,
                          std::function<void(Result<RoomId>)> done);
    void uploadMedia(const std::string& bytes, const std::string& mimeType, const std::string& fileName,
                     std::function<void(Result<std::string>)> done) override;
    void downloadMedia(const std::string& mxcUrl, std::function<void(Result<std::string>)> done) override;

private:
    void roomRequest(const RoomId& room, std::string kind, nlohmann::json payload);
    void setProfile(const std::string& field, const std::string& value);
    void create(const RoomCreation& creation, const BridgeStateInfo* info,
                std::function<void(Result<RoomId>)> done);

    UserId user_;
    Outbox& outbox_;
};

}  // namespace mxbridge::detail
