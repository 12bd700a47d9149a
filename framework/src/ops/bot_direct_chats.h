// Where the bridge bot speaks to one Matrix user privately: their DM with the bot. That is
// the room they last sent the bot a command in; for a user who never did, the bot creates a
// direct chat and invites them. The room is kept in the bridge's key/value store under a
// framework prefix, so a restart finds the same room. Used for what a user must act on (a
// login the network refused), never for chatter.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "mxbridge/connector.h"
#include "mxbridge/log.h"

namespace mxbridge::detail {

class BotDirectChats {
public:
    // The room's key in KvStore: kKeyPrefix + user id.
    static constexpr std::string_view kKeyPrefix = "mxbridge.dm_room:";

    BotDirectChats(Intent& bot, KvStore& kv, Logger log = Logger("bot_dm"));

    // `user` spoke to the bot in `room` (a command outside any portal): their DM from now on.
    void remember(const UserId& user, const RoomId& room);
    // A notice in `user`'s DM with the bot; the DM is created first if there is none. Any
    // thread; never blocks on the homeserver.
    void tell(const UserId& user, const std::string& text);

private:
    void send(const RoomId& room, const std::string& text);
    void created(const UserId& user, const Result<RoomId>& room);

    Intent& bot_;
    KvStore& kv_;
    Logger log_;
    std::mutex mutex_;
    // Notices for users whose DM is being created, sent once it exists.
    std::map<UserId, std::vector<std::string>> waiting_;
};

}  // namespace mxbridge::detail
