// MemberNames: a per-room cache of display names, filled by routed member events.
#include "bridge/member_names.h"
#include "matrix/hs_client.h"

#include <atomic>
#include <chrono>
#include <memory>

namespace mxbridge::detail {

namespace {

std::string nameFrom(const nlohmann::json& content, const UserId& user) {
    auto it = content.find("displayname");
    if (it != content.end() && it->is_string() && !it->get<std::string>().empty())
        return it->get<std::string>();
    return std::string(localpartOf(user.str()));
}

}  // namespace

MemberNames::MemberNames(Lookup lookup) : lookup_(std::move(lookup)) {}

std::string MemberNames::keyOf(const RoomId& room, const UserId& user) {
    return room.str() + '\n' + user.str();
}

void MemberNames::noteMembership(const RoomId& room, const UserId& user,
                                 const std::string& membership, const std::string& displayName) {
    std::string key = keyOf(room, user);
    std::lock_guard lock(mutex_);
    if (membership == "join" || membership == "invite") {
        names_[key] = displayName.empty() ? std::string(localpartOf(user.str())) : displayName;
    } else {
        names_.erase(key);  // left, kicked or banned: a later join brings the name again
    }
}

std::string MemberNames::displayName(const RoomId& room, const UserId& user) {
    std::string key = keyOf(room, user);
    {
        std::lock_guard lock(mutex_);
        if (auto it = names_.find(key); it != names_.end()) return it->second;
    }
    // Outside the lock: other rooms' queues go on while this one asks.
    std::optional<nlohmann::json> content;
    if (lookup_) content = lookup_(room, user);
    if (!content || !content->is_object()) return std::string(localpartOf(user.str()));  // asked again next time
    std::string name = nameFrom(*content, user);
    std::lock_guard lock(mutex_);
    // A member event routed meanwhile is newer than the answer: keep it.
    return names_.try_emplace(key, name).first->second;
}

MemberNames::Lookup MemberNames::viaHomeserver(HomeserverClient& homeserver) {
    // When the homeserver does not answer (down, or failing with 5xx), each unseen sender
    // would hold its room's queue for two timed-out calls: for a while after such a failure
    // the lookup gives up at once (the localpart is used; the sender is asked again later).
    using Clock = std::chrono::steady_clock;
    constexpr auto kQuietAfterOutage = std::chrono::seconds(30);
    auto quietUntil = std::make_shared<std::atomic<Clock::rep>>(0);
    auto outage = [](const HsResponse& r) { return r.status == 0 || r.status >= 500; };
    return [&homeserver, quietUntil, outage, kQuietAfterOutage](
               const RoomId& room, const UserId& user) -> std::optional<nlohmann::json> {
        if (Clock::now().time_since_epoch().count() < quietUntil->load()) return std::nullopt;
        auto failed = [&] {
            quietUntil->store((Clock::now() + kQuietAfterOutage).time_since_epoch().count());
            return std::nullopt;
        };
        const std::string client = "/_matrix/client/v3";
        HsResponse member = homeserver.call("GET", client + "/rooms/" + urlEncode(room.str()) +
                                                       "/state/m.room.member/" + urlEncode(user.str()));
        if (member.ok() && member.body.is_object()) return member.body;
        if (outage(member)) return failed();
        HsResponse profile = homeserver.call("GET", client + "/profile/" + urlEncode(user.str()));
        if (profile.ok() && profile.body.is_object()) return profile.body;
        if (outage(profile)) return failed();
        return std::nullopt;
    };
}

}  // namespace mxbridge::detail
