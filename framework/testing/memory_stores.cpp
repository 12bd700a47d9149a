// The kit's in-memory stores: vectors and maps under one mutex each.
#include "mxbridge/testing/memory_stores.h"

#include <algorithm>

namespace mxbridge::testing {

namespace {

template <typename Keep>
std::vector<Link> linksWhere(const std::vector<Link>& links, Keep keep) {
    std::vector<Link> out;
    std::copy_if(links.begin(), links.end(), std::back_inserter(out), keep);
    return out;
}

}  // namespace

void MemoryKvStore::put(const std::string& key, const std::string& value) {
    std::lock_guard lock(mutex_);
    values_[key] = value;
}

void MemoryKvStore::erase(const std::string& key) {
    std::lock_guard lock(mutex_);
    values_.erase(key);
}

std::optional<std::string> MemoryKvStore::get(const std::string& key) {
    std::lock_guard lock(mutex_);
    auto it = values_.find(key);
    if (it == values_.end()) return std::nullopt;
    return it->second;
}

std::vector<std::pair<std::string, std::string>> MemoryKvStore::list(const std::string& prefix) {
    std::lock_guard lock(mutex_);
    std::vector<std::pair<std::string, std::string>> out;
    for (auto it = values_.lower_bound(prefix); it != values_.end() && it->first.compare(0, prefix.size(), prefix) == 0;
         ++it)
        out.emplace_back(it->first, it->second);
    return out;
}

std::map<std::string, std::string> MemoryKvStore::all() const {
    std::lock_guard lock(mutex_);
    return values_;
}

void MemoryLinkStore::link(const Link& link) {
    std::lock_guard lock(mutex_);
    for (Link& existing : links_)
        if (existing.room == link.room && existing.remote == link.remote) {
            existing.options = link.options;
            return;
        }
    links_.push_back(link);
}

void MemoryLinkStore::unlink(const RoomId& room, const RemoteRoomId& remote) {
    std::lock_guard lock(mutex_);
    std::erase_if(links_, [&](const Link& l) { return l.room == room && l.remote == remote; });
}

std::vector<Link> MemoryLinkStore::forRoom(const RoomId& room) {
    std::lock_guard lock(mutex_);
    return linksWhere(links_, [&](const Link& l) { return l.room == room; });
}

std::vector<Link> MemoryLinkStore::forRemote(const RemoteRoomId& remote) {
    std::lock_guard lock(mutex_);
    return linksWhere(links_, [&](const Link& l) { return l.remote == remote; });
}

std::vector<Link> MemoryLinkStore::all() {
    std::lock_guard lock(mutex_);
    return links_;
}

void MemoryUserStore::setGhost(const UserId& ghost, const RemoteUserId& remote) {
    std::lock_guard lock(mutex_);
    ghosts_[ghost] = remote;
}

std::optional<RemoteUserId> MemoryUserStore::remoteForGhost(const UserId& ghost) {
    std::lock_guard lock(mutex_);
    auto it = ghosts_.find(ghost);
    if (it == ghosts_.end()) return std::nullopt;
    return it->second;
}

std::optional<UserId> MemoryUserStore::ghostForRemote(const RemoteUserId& remote) {
    std::lock_guard lock(mutex_);
    for (const auto& [ghost, r] : ghosts_)
        if (r == remote) return ghost;
    return std::nullopt;
}

void MemoryUserStore::saveLogin(const Login& login) {
    std::lock_guard lock(mutex_);
    logins_.insert_or_assign({login.user, login.network}, login);
}

std::optional<Login> MemoryUserStore::login(const UserId& user, const std::string& network) {
    std::lock_guard lock(mutex_);
    auto it = logins_.find({user, network});
    if (it == logins_.end()) return std::nullopt;
    return it->second;
}

void MemoryUserStore::removeLogin(const UserId& user, const std::string& network) {
    std::lock_guard lock(mutex_);
    logins_.erase({user, network});
}

std::vector<Login> MemoryUserStore::logins(const std::string& network) {
    std::lock_guard lock(mutex_);
    std::vector<Login> out;
    for (const auto& [key, login] : logins_)
        if (key.second == network) out.push_back(login);
    return out;
}

void MemoryEventMappingStore::map(const RoomId& room, const EventId& event,
                                  const RemoteRoomId& remoteRoom, const RemoteMessageId& remote) {
    std::lock_guard lock(mutex_);
    rows_.push_back(Row{.room = room, .event = event, .remoteRoom = remoteRoom, .remote = remote});
}

std::optional<RemoteMessageId> MemoryEventMappingStore::remoteFor(const EventId& event) {
    std::lock_guard lock(mutex_);
    for (const Row& r : rows_)
        if (r.event == event) return r.remote;
    return std::nullopt;
}

std::optional<EventId> MemoryEventMappingStore::eventFor(const RemoteRoomId& remoteRoom,
                                                         const RemoteMessageId& remote) {
    std::lock_guard lock(mutex_);
    for (const Row& r : rows_)
        if (r.remoteRoom == remoteRoom && r.remote == remote) return r.event;
    return std::nullopt;
}

std::optional<RoomId> MemoryEventMappingStore::roomForEvent(const EventId& event) {
    std::lock_guard lock(mutex_);
    for (const Row& r : rows_)
        if (r.event == event) return r.room;
    return std::nullopt;
}

}  // namespace mxbridge::testing
