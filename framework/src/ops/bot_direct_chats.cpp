#include "ops/bot_direct_chats.h"

namespace mxbridge::detail {

BotDirectChats::BotDirectChats(Intent& bot, KvStore& kv, Logger log)
    : bot_(bot), kv_(kv), log_(std::move(log)) {}

void BotDirectChats::remember(const UserId& user, const RoomId& room) {
    const std::string key = std::string(kKeyPrefix) + user.str();
    if (kv_.get(key) != room.str()) kv_.put(key, room.str());
}

void BotDirectChats::tell(const UserId& user, const std::string& text) {
    if (auto room = kv_.get(std::string(kKeyPrefix) + user.str())) {
        send(RoomId(*room), text);
        return;
    }
    {
        std::lock_guard lock(mutex_);
        auto [it, first] = waiting_.try_emplace(user);
        it->second.push_back(text);
        if (!first) return;  // a creation is under way; this notice goes with the others
    }
    RoomCreation creation;
    creation.isDirect = true;
    creation.invite = {user};
    // Outside the lock: a test intent may answer at once, on this thread.
    bot_.createRoom(creation, [this, user](Result<RoomId> room) { created(user, room); });
}

void BotDirectChats::created(const UserId& user, const Result<RoomId>& room) {
    std::vector<std::string> notices;
    {
        std::lock_guard lock(mutex_);
        notices = std::move(waiting_[user]);
        waiting_.erase(user);
    }
    if (!room) {
        // Dropped, not retried: the next notice for this user tries again.
        log_.warn("could not create a direct chat with a user to tell them something",
                  {{"user", user.str()}, {"error", room.error().message}, {"notices_dropped", notices.size()}});
        return;
    }
    remember(user, *room);
    for (const std::string& text : notices) send(*room, text);
}

void BotDirectChats::send(const RoomId& room, const std::string& text) {
    OutgoingMessage notice;
    notice.kind = MessageKind::Notice;
    notice.body = text;
    bot_.sendMessage(room, notice);
}

}  // namespace mxbridge::detail
