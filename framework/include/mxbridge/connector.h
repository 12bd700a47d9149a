// The plug-in interface: read this first when writing a bridge.
//
// A bridge is a class implementing Connector. The framework receives transactions from the
// homeserver, journals them, and calls the connector's hooks on a serial queue per Matrix
// room: hooks for one room never run concurrently, hooks for different rooms may. A hook
// must not block on the network: hand slow work to the bridge's own I/O and return.
//
// Exactly-once: an event counts as handled when its hook returns. Writes made to kv() during a
// hook are committed atomically with that mark, so after a crash an event is either replayed
// with none of its writes visible, or not replayed at all.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mxbridge/config.h"
#include "mxbridge/events.h"
#include "mxbridge/ids.h"
#include "mxbridge/log.h"
#include "mxbridge/metrics.h"
#include "mxbridge/result.h"

namespace mxbridge {

// What a hook did with an event. Read at the return statement.
class HookResult {
public:
    enum class Kind { Delivered, Ignored, Unsupported, Failed };

    // The remote side has it (or has durably queued it). The id maps edits/replies later.
    static HookResult delivered(RemoteMessageId remoteId = {}) {
        return HookResult(Kind::Delivered, std::move(remoteId), {});
    }
    // Nothing for this bridge to do (not a bridged room, an event type it ignores).
    static HookResult ignored() { return HookResult(Kind::Ignored, {}, {}); }
    // The bridge cannot carry this (e.g. reactions on a network without them).
    static HookResult unsupported(std::string why) {
        return HookResult(Kind::Unsupported, {}, Error::permanent("unsupported", std::move(why)));
    }
    // Delivery failed. A retryable error is retried by the framework, in order, with
    // back-off; a permanent one is logged, counted and reported to the sender.
    static HookResult failed(Error error) { return HookResult(Kind::Failed, {}, std::move(error)); }

    Kind kind() const { return kind_; }
    const RemoteMessageId& remoteId() const { return remoteId_; }
    const Error& error() const { return error_; }

private:
    HookResult(Kind kind, RemoteMessageId id, Error error)
        : kind_(kind), remoteId_(std::move(id)), error_(std::move(error)) {}
    Kind kind_;
    RemoteMessageId remoteId_;
    Error error_;
};

// The bridge's own key/value store, in the framework's database.
class KvStore {
public:
    virtual ~KvStore() = default;
    // Inside a hook: staged, visible to get() at once, committed with the event's done mark.
    // Outside a hook: committed before it returns.
    virtual void put(const std::string& key, const std::string& value) = 0;
    virtual void erase(const std::string& key) = 0;
    virtual std::optional<std::string> get(const std::string& key) = 0;
};

// A user-id query (GET /users/{userId}) for an id in the bridge's namespace.
struct UserQueryAnswer {
    bool exists = false;
    std::optional<std::string> displayName;  // set on the ghost when it is created
    static UserQueryAnswer notFound() { return {}; }
    static UserQueryAnswer ghost(std::optional<std::string> name = std::nullopt) {
        return UserQueryAnswer{true, std::move(name)};
    }
};

// A room-alias query (GET /rooms/{alias}). When `exists`, the framework creates the room with
// that alias before answering 200, so the user's join proceeds.
struct AliasQueryAnswer {
    bool exists = false;
    std::string name;
    std::string topic;
    bool isPublic = true;
    static AliasQueryAnswer notFound() { return {}; }
};

// Everything the framework gives a bridge. Valid from start() until stop() returns.
class BridgeContext {
public:
    virtual ~BridgeContext() = default;
    virtual const ConfigSection& config() const = 0;
    virtual Logger logger(const std::string& component) const = 0;
    virtual KvStore& kv() = 0;
    virtual Metrics& metrics() = 0;
    virtual const std::string& serverName() const = 0;
    virtual UserId botUserId() const = 0;
    // The ghost for a remote user's id (the `{id}` of the user template), e.g. "@irc_alice:hs".
    virtual UserId ghostUserId(const std::string& remoteLocal) const = 0;
};

struct BridgeInfo {
    std::string name;
    std::string description;
    std::string defaultUserTemplate;   // ghost localparts, with one "{id}"
    std::string defaultAliasTemplate;  // portal alias localparts, with one "{id}"
    std::vector<std::string> protocols;
};

class Connector {
public:
    virtual ~Connector() = default;

    virtual BridgeInfo info() const = 0;
    // Called once before any hook. Connect to the network here, without blocking on it:
    // connection trouble is a state to report, not a failure of start().
    virtual void start(BridgeContext& context) = 0;
    // Called once at shutdown after the last hook returned.
    virtual void stop() {}

    // A timeline event in a room the bridge is in (messages, state, membership, redactions),
    // sent by a real Matrix user: the bridge's own echoes never arrive here.
    // Runs on the room's queue.
    virtual HookResult onMatrixEvent(const MatrixEvent& event) = 0;
    // Typing, receipts (room queue) and presence (its own queue).
    virtual HookResult onEphemeral(const MatrixEvent&) { return HookResult::ignored(); }
    // To-device messages (encryption-aware bridges).
    virtual HookResult onToDevice(const MatrixEvent&) { return HookResult::ignored(); }

    // Runs on the HTTP thread while the homeserver waits: answer quickly.
    virtual UserQueryAnswer onUserQuery(const UserId&) { return UserQueryAnswer::notFound(); }
    virtual AliasQueryAnswer onAliasQuery(const RoomAlias&) { return AliasQueryAnswer::notFound(); }

    // Third-party network lookups (spec: Application Service API, "Third-party networks").
    // The protocol's metadata, or nothing if the bridge does not speak `protocol`.
    virtual std::optional<nlohmann::json> onThirdpartyProtocol(const std::string&) {
        return std::nullopt;
    }
    // kind is "user" or "location"; an empty `protocol` is a reverse lookup by Matrix id.
    // Returns the array of results; empty means none.
    virtual nlohmann::json onThirdpartyQuery(const std::string& /*kind*/,
                                             const std::string& /*protocol*/,
                                             const std::map<std::string, std::string>& /*fields*/) {
        return nlohmann::json::array();
    }
};

using ConnectorFactory = std::function<std::unique_ptr<Connector>()>;

// Built-in and plug-in bridges register themselves by name when their library loads.
class ConnectorRegistry {
public:
    static void add(const std::string& name, const std::string& description,
                    ConnectorFactory factory);
    static std::unique_ptr<Connector> create(const std::string& name);
    static std::vector<std::pair<std::string, std::string>> list();  // name, description
    // How many registrations have happened, and the name of the latest: how the loader
    // finds what a plug-in registered, even when it reuses a built-in's name.
    static uint64_t generation();
    static std::string lastAdded();
};

namespace detail {
struct ConnectorRegistrar {
    ConnectorRegistrar(const char* name, const char* description, ConnectorFactory factory) {
        ConnectorRegistry::add(name, description, std::move(factory));
    }
};
}  // namespace detail

}  // namespace mxbridge

// Ends a connector's file: registers `Class` under `name` when the library loads.
#define MXBRIDGE_BRIDGE(Class, name, description)                                        \
    static ::mxbridge::detail::ConnectorRegistrar mxbridgeRegistrar_##Class(             \
        name, description, [] { return std::unique_ptr<::mxbridge::Connector>(new Class); })
