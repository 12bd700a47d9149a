// What the framework remembers for a bridge: links (portals), ghosts and logins, event
// mappings, and a key/value store. Behind interfaces, so another backend (PostgreSQL) can
// follow without touching bridges. Reads see committed state; writes made inside a hook are
// committed together with that event's done mark.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mxbridge/ids.h"
#include "mxbridge/log.h"

namespace mxbridge {

// A Matrix room linked to a remote room. Many-to-many: one Matrix room may carry several
// remote rooms and the other way round.
struct Link {
    RoomId room;
    RemoteRoomId remote;
    nlohmann::json options = nlohmann::json::object();  // per-link, bridge-defined
};

class LinkStore {
public:
    virtual ~LinkStore() = default;
    virtual void link(const Link& link) = 0;  // adds or updates the options
    virtual void unlink(const RoomId& room, const RemoteRoomId& remote) = 0;
    virtual std::vector<Link> forRoom(const RoomId& room) = 0;
    virtual std::vector<Link> forRemote(const RemoteRoomId& remote) = 0;
    virtual std::vector<Link> all() = 0;
};

// A Matrix user's credentials on the remote network (for puppets). Secrets are encrypted at
// rest with the key in database.secret_key.
struct Login {
    UserId user;
    std::string network;                 // e.g. "libera"
    std::string remoteName;              // e.g. nick or account name
    Secret<std::string> secret;          // password or token; empty when none
    nlohmann::json data = nlohmann::json::object();  // bridge-defined, not encrypted
    // Which of the user's logins on `network` (LoginKey::id); empty for the only one.
    // Several secrets (a token and a cookie): one JSON object in `secret`.
    std::string id{};
};

class UserStore {
public:
    virtual ~UserStore() = default;
    // Ghosts: which remote user a ghost stands for.
    virtual void setGhost(const UserId& ghost, const RemoteUserId& remote) = 0;
    virtual std::optional<RemoteUserId> remoteForGhost(const UserId& ghost) = 0;
    virtual std::optional<UserId> ghostForRemote(const RemoteUserId& remote) = 0;
    // Logins: a Matrix user's own remote identity.
    virtual void saveLogin(const Login& login) = 0;
    virtual std::optional<Login> login(const UserId& user, const std::string& network) = 0;
    virtual void removeLogin(const UserId& user, const std::string& network) = 0;
    virtual std::vector<Login> logins(const std::string& network) = 0;
};

// Matrix event <-> remote message, for edits, redactions, replies and reactions.
class EventMappingStore {
public:
    virtual ~EventMappingStore() = default;
    virtual void map(const RoomId& room, const EventId& event, const RemoteRoomId& remoteRoom,
                     const RemoteMessageId& remote) = 0;
    virtual std::optional<RemoteMessageId> remoteFor(const EventId& event) = 0;
    virtual std::optional<EventId> eventFor(const RemoteRoomId& remoteRoom,
                                            const RemoteMessageId& remote) = 0;
    virtual std::optional<RoomId> roomForEvent(const EventId& event) = 0;
};

}  // namespace mxbridge
