// RecordingIntent: each Intent call becomes one IntentAction in the shared IntentLog.
#include "mxbridge/testing/recording_intent.h"

namespace mxbridge::testing {

void IntentLog::add(IntentAction action) {
    std::lock_guard lock(mutex_);
    actions_.push_back(std::move(action));
}

std::vector<IntentAction> IntentLog::all() const {
    std::lock_guard lock(mutex_);
    return actions_;
}

std::vector<IntentAction> IntentLog::ofOp(const std::string& op) const {
    std::lock_guard lock(mutex_);
    std::vector<IntentAction> out;
    for (const IntentAction& a : actions_)
        if (a.op == op) out.push_back(a);
    return out;
}

void IntentLog::clear() {
    std::lock_guard lock(mutex_);
    actions_.clear();
}

void IntentLog::putMedia(const std::string& mxc, const std::string& bytes) {
    std::lock_guard lock(mutex_);
    media_[mxc] = bytes;
}

std::optional<std::string> IntentLog::media(const std::string& mxc) const {
    std::lock_guard lock(mutex_);
    auto it = media_.find(mxc);
    if (it == media_.end()) return std::nullopt;
    return it->second;
}

void IntentLog::failNext(Error error, int count) {
    std::lock_guard lock(mutex_);
    for (int i = 0; i < count; ++i) failures_.push_back(error);
}

std::optional<Error> IntentLog::takeFailure() {
    std::lock_guard lock(mutex_);
    if (failures_.empty()) return std::nullopt;
    Error error = std::move(failures_.front());
    failures_.erase(failures_.begin());
    return error;
}

int IntentLog::nextSerial() {
    std::lock_guard lock(mutex_);
    return ++serial_;
}

RecordingIntent::RecordingIntent(UserId user, std::string serverName, IntentLog& log, ManualClock& clock)
    : user_(std::move(user)), serverName_(std::move(serverName)), log_(log), clock_(clock) {}

IntentAction RecordingIntent::action(const char* op, const RoomId& room) const {
    IntentAction a;
    a.actor = user_;
    a.op = op;
    a.room = room;
    return a;
}

void RecordingIntent::sendMessage(const RoomId& room, const OutgoingMessage& message,
                                  const RemoteMessageId& remoteId) {
    IntentAction a = action("sendMessage", room);
    a.text = message.body;
    a.remoteId = remoteId;
    a.message = message;
    log_.add(std::move(a));
}

void RecordingIntent::sendReaction(const RoomId& room, const EventId& target, const std::string& key,
                                   const RemoteMessageId& remoteId) {
    IntentAction a = action("sendReaction", room);
    a.target = target.str();
    a.text = key;
    a.remoteId = remoteId;
    log_.add(std::move(a));
}

void RecordingIntent::redact(const RoomId& room, const EventId& target, const std::string& reason) {
    IntentAction a = action("redact", room);
    a.target = target.str();
    a.text = reason;
    log_.add(std::move(a));
}

void RecordingIntent::sendState(const RoomId& room, const std::string& type, const std::string& stateKey,
                                const nlohmann::json& content) {
    IntentAction a = action("sendState", room);
    a.text = type;
    a.target = stateKey;
    a.content = content;
    log_.add(std::move(a));
}

void RecordingIntent::join(const RoomId& room) { log_.add(action("join", room)); }

void RecordingIntent::leave(const RoomId& room, const std::string& reason) {
    IntentAction a = action("leave", room);
    a.text = reason;
    log_.add(std::move(a));
}

void RecordingIntent::invite(const RoomId& room, const UserId& user) {
    IntentAction a = action("invite", room);
    a.target = user.str();
    log_.add(std::move(a));
}

void RecordingIntent::kick(const RoomId& room, const UserId& user, const std::string& reason) {
    IntentAction a = action("kick", room);
    a.target = user.str();
    a.text = reason;
    log_.add(std::move(a));
}

void RecordingIntent::ban(const RoomId& room, const UserId& user, const std::string& reason) {
    IntentAction a = action("ban", room);
    a.target = user.str();
    a.text = reason;
    log_.add(std::move(a));
}

void RecordingIntent::setRoomName(const RoomId& room, const std::string& name) {
    IntentAction a = action("setRoomName", room);
    a.text = name;
    log_.add(std::move(a));
}

void RecordingIntent::setTopic(const RoomId& room, const std::string& topic) {
    IntentAction a = action("setTopic", room);
    a.text = topic;
    log_.add(std::move(a));
}

void RecordingIntent::setPowerLevels(const RoomId& room, const std::map<UserId, int>& levels) {
    IntentAction a = action("setPowerLevels", room);
    a.levels = levels;
    log_.add(std::move(a));
}

void RecordingIntent::setRoomAlias(const std::string& aliasLocalpart, const RoomId& room) {
    IntentAction a = action("setRoomAlias", room);
    a.target = aliasLocalpart;
    log_.add(std::move(a));
}

void RecordingIntent::publishInDirectory(const RoomId& room, bool visible) {
    IntentAction a = action("publishInDirectory", room);
    a.content = {{"visible", visible}};
    log_.add(std::move(a));
}

void RecordingIntent::setDisplayName(const std::string& name) {
    IntentAction a = action("setDisplayName");
    a.text = name;
    log_.add(std::move(a));
}

void RecordingIntent::setAvatarUrl(const std::string& mxcUrl) {
    IntentAction a = action("setAvatarUrl");
    a.text = mxcUrl;
    log_.add(std::move(a));
}

void RecordingIntent::setTyping(const RoomId& room, bool typing, std::chrono::milliseconds timeout) {
    IntentAction a = action("setTyping", room);
    a.content = {{"typing", typing}, {"timeout", timeout.count()}};
    log_.add(std::move(a));
}

void RecordingIntent::markRead(const RoomId& room, const EventId& event) {
    IntentAction a = action("markRead", room);
    a.target = event.str();
    log_.add(std::move(a));
}

void RecordingIntent::setPresence(const std::string& presence, const std::string& statusMessage) {
    IntentAction a = action("setPresence");
    a.text = presence;
    a.content = {{"status_msg", statusMessage}};
    log_.add(std::move(a));
}

void RecordingIntent::createRoom(const RoomCreation& creation, std::function<void(Result<RoomId>)> done) {
    IntentAction a = action("createRoom");
    a.creation = creation;
    log_.add(std::move(a));
    clock_.post([this, done = std::move(done)] {
        if (std::optional<Error> failure = log_.takeFailure()) return done(std::move(*failure));
        done(RoomId("!room" + std::to_string(log_.nextSerial()) + ":" + serverName_));
    });
}

void RecordingIntent::uploadMedia(const std::string& bytes, const std::string& mimeType,
                                  const std::string& fileName,
                                  std::function<void(Result<std::string>)> done) {
    IntentAction a = action("uploadMedia");
    a.text = fileName;
    a.content = {{"mimetype", mimeType}, {"size", bytes.size()}};
    log_.add(std::move(a));
    clock_.post([this, bytes, done = std::move(done)] {
        if (std::optional<Error> failure = log_.takeFailure()) return done(std::move(*failure));
        std::string mxc = "mxc://" + serverName_ + "/media" + std::to_string(log_.nextSerial());
        log_.putMedia(mxc, bytes);
        done(std::move(mxc));
    });
}

void RecordingIntent::downloadMedia(const std::string& mxcUrl, std::function<void(Result<std::string>)> done) {
    IntentAction a = action("downloadMedia");
    a.text = mxcUrl;
    log_.add(std::move(a));
    clock_.post([this, mxcUrl, done = std::move(done)] {
        if (std::optional<Error> failure = log_.takeFailure()) return done(std::move(*failure));
        if (std::optional<std::string> bytes = log_.media(mxcUrl)) return done(std::move(*bytes));
        done(Error::permanent("M_NOT_FOUND", "no media " + mxcUrl));
    });
}

}  // namespace mxbridge::testing
