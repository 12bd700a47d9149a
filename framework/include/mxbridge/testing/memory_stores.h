// In-memory KvStore, LinkStore, UserStore and EventMappingStore for connector unit tests:
// the same contracts as the framework's SQLite stores (link() updates options in place,
// one login per user and network, unlink/remove of what is absent does nothing), with
// everything visible at once since there is no hook transaction to commit. Thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mxbridge/connector.h"
#include "mxbridge/store.h"

namespace mxbridge::testing {

class MemoryKvStore final : public KvStore {
public:
    void put(const std::string& key, const std::string& value) override;
    void erase(const std::string& key) override;
    std::optional<std::string> get(const std::string& key) override;
    std::vector<std::pair<std::string, std::string>> list(const std::string& prefix) override;
    // Everything stored, by key: for assertions on what a connector remembered.
    std::map<std::string, std::string> all() const;

private:
    mutable std::mutex mutex_;
    std::map<std::string, std::string> values_;
};

class MemoryLinkStore final : public LinkStore {
public:
    void link(const Link& link) override;
    void unlink(const RoomId& room, const RemoteRoomId& remote) override;
    std::vector<Link> forRoom(const RoomId& room) override;
    std::vector<Link> forRemote(const RemoteRoomId& remote) override;
    std::vector<Link> all() override;  // in the order first linked

private:
    std::mutex mutex_;
    std::vector<Link> links_;
};

class MemoryUserStore final : public UserStore {
public:
    void setGhost(const UserId& ghost, const RemoteUserId& remote) override;
    std::optional<RemoteUserId> remoteForGhost(const UserId& ghost) override;
    std::optional<UserId> ghostForRemote(const RemoteUserId& remote) override;
    void saveLogin(const Login& login) override;
    std::optional<Login> login(const UserId& user, const std::string& network) override;
    void removeLogin(const UserId& user, const std::string& network) override;
    std::vector<Login> logins(const std::string& network) override;

private:
    std::mutex mutex_;
    std::map<UserId, RemoteUserId> ghosts_;
    std::map<std::pair<UserId, std::string>, Login> logins_;  // by user and network
};

class MemoryEventMappingStore final : public EventMappingStore {
public:
    void map(const RoomId& room, const EventId& event, const RemoteRoomId& remoteRoom,
             const RemoteMessageId& remote) override;
    std::optional<RemoteMessageId> remoteFor(const EventId& event) override;
    std::optional<EventId> eventFor(const RemoteRoomId& remoteRoom,
                                    const RemoteMessageId& remote) override;
    std::optional<RoomId> roomForEvent(const EventId& event) override;

private:
    struct Row {
        RoomId room;
        EventId event;
        RemoteRoomId remoteRoom;
        RemoteMessageId remote;
    };
    std::mutex mutex_;
    std::vector<Row> rows_;
};

}  // namespace mxbridge::testing
