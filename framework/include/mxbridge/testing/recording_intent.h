// A fake Intent that records every action, in one order shared by all intents of a test, and
// answers createRoom/uploadMedia/downloadMedia "later": on the test's next clock advance, the
// way the real outbox answers on its own thread after the hook returned.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mxbridge/intent.h"
#include "mxbridge/testing/manual_clock.h"

namespace mxbridge::testing {

// One intent call. Fields an operation does not use stay empty.
struct IntentAction {
    UserId actor;
    std::string op;      // the Intent method's name: "sendMessage", "join", "setTopic", …
    RoomId room;
    std::string text;    // key, reason, name, topic, state type, display name, mxc, presence
    std::string target;  // the event, user or state key acted on; the alias localpart
    RemoteMessageId remoteId;
    std::optional<OutgoingMessage> message;
    std::optional<RoomCreation> creation;
    std::map<UserId, int> levels;
    // sendState's content; otherwise the call's other arguments: {"typing", "timeout"} for
    // setTyping, {"visible"}, {"status_msg"}, {"mimetype", "size"} for uploadMedia.
    nlohmann::json content;
};

// What every intent of a test has done, and how their deferred calls are answered.
class IntentLog {
public:
    void add(IntentAction action);
    std::vector<IntentAction> all() const;
    std::vector<IntentAction> ofOp(const std::string& op) const;
    void clear();

    // Media the homeserver "has", for downloadMedia; uploads are added here too.
    void putMedia(const std::string& mxc, const std::string& bytes);
    std::optional<std::string> media(const std::string& mxc) const;
    // The next `count` createRoom/uploadMedia/downloadMedia answers are this error.
    void failNext(Error error, int count = 1);
    std::optional<Error> takeFailure();
    // A fresh number for created rooms and uploads: "!room1:server", "mxc://server/media2".
    int nextSerial();

private:
    mutable std::mutex mutex_;
    std::vector<IntentAction> actions_;
    std::map<std::string, std::string> media_;
    std::vector<Error> failures_;
    int serial_ = 0;
};

class RecordingIntent final : public Intent {
public:
    RecordingIntent(UserId user, std::string serverName, IntentLog& log, ManualClock& clock);

    const UserId& userId() const override { return user_; }

    void sendMessage(const RoomId& room, const OutgoingMessage& message,
                     const RemoteMessageId& remoteId = RemoteMessageId()) override;
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
    void setTyping(const RoomId& room, bool typing,
                   std::chrono::milliseconds timeout = std::chrono::seconds(30)) override;
    void markRead(const RoomId& room, const EventId& event) override;
    void setPresence(const std::string& presence, const std::string& statusMessage = {}) override;
    // Answered on the clock's next advance: a new room "!roomN:server", or the error set
    // with IntentLog::failNext.
    void createRoom(const RoomCreation& creation, std::function<void(Result<RoomId>)> done) override;
    // Answered on the next advance with "mxc://server/mediaN" (kept for downloadMedia).
    void uploadMedia(const std::string& bytes, const std::string& mimeType,
                     const std::string& fileName,
                     std::function<void(Result<std::string>)> done) override;
    // Answered on the next advance with what IntentLog::putMedia holds, else M_NOT_FOUND.
    void downloadMedia(const std::string& mxcUrl,
                       std::function<void(Result<std::string>)> done) override;

private:
    IntentAction action(const char* op, const RoomId& room = RoomId()) const;

    UserId user_;
    std::string serverName_;
    IntentLog& log_;
    ManualClock& clock_;
};

}  // namespace mxbridge::testing
