// The display names Matrix users have in each room, as bridges name their puppets
// (MatrixMessage::senderName): learnt from the m.room.member events the framework routes, and
// asked of the homeserver once for a sender not seen joining (e.g. after a restart).
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "mxbridge/ids.h"

namespace mxbridge::detail {

class HomeserverClient;

class MemberNames {
public:
    // The content of `user`'s m.room.member event in `room` (or their profile), from the
    // homeserver; nullopt when it cannot say. Called at most once per unseen member.
    using Lookup = std::function<std::optional<nlohmann::json>(const RoomId&, const UserId&)>;

    explicit MemberNames(Lookup lookup = {});

    // An m.room.member event routed to the bridge.
    void noteMembership(const RoomId& room, const UserId& user, const std::string& membership,
                        const std::string& displayName);
    // The spec's display name rule (m.room.member): `displayname` when set and not empty,
    // else the localpart. Runs on the room's queue; the first call for an unseen member may
    // wait for the homeserver once.
    std::string displayName(const RoomId& room, const UserId& user);

    // A Lookup through the Client-Server API: the member event as the bot, else the
    // sender's global profile (the bot is not in every room, e.g. a ghost's private chat).
    // For 30 s after the homeserver failed to answer (no answer, 5xx) it asks nothing.
    static Lookup viaHomeserver(HomeserverClient& homeserver);

private:
    static std::string keyOf(const RoomId& room, const UserId& user);

    Lookup lookup_;
    std::mutex mutex_;
    std::unordered_map<std::string, std::string> names_;  // room + '\n' + user -> name
};

}  // namespace mxbridge::detail
