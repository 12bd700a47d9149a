// The plug-in interface: read this first when writing a bridge.
//
// A bridge is a class implementing Connector (and the optional *Handler interfaces its
// network supports), ending its file with MXBRIDGE_BRIDGE(Class, "name", "description").
// The framework receives transactions from the homeserver, journals them, classifies each
// event and calls the connector's hooks on a serial queue per Matrix room: hooks for one room
// never run concurrently, hooks for different rooms may. A hook must not block on the
// network: hand slow work to the bridge's own I/O and return.
//
// Remote to Matrix is one call: BridgeContext::queueRemote(RemoteMessage{...}).
//
// Exactly-once: an event counts as handled when its hook returns. What a hook writes (kv(),
// the stores, intents' requests) is committed atomically with that mark, so after a crash an
// event is either replayed with none of its writes visible, or not replayed at all.
#pragma once

#include <cstdint>
#include <chrono>
#include <functional>
#include <utility>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mxbridge/config_section.h"
#include "mxbridge/events.h"
#include "mxbridge/ids.h"
#include "mxbridge/log.h"
#include "mxbridge/login.h"
#include "mxbridge/metrics.h"
#include "mxbridge/result.h"
#include "mxbridge/commands.h"
#include "mxbridge/intent.h"
#include "mxbridge/matrix_events.h"
#include "mxbridge/media.h"
#include "mxbridge/remote_events.h"
#include "mxbridge/remote_state.h"
#include "mxbridge/store.h"
#include "mxbridge/version.h"

namespace mxbridge {

// What a hook did with an event. Read at the return statement.
class HookResult {
public:
    enum class Kind { Delivered, Ignored, Unsupported, Failed };

    // The remote side has it (or has durably queued it). The id maps edits/replies later.
    static HookResult delivered(RemoteMessageId remoteId = {}) {
        return HookResult(Kind::Delivered, std::move(remoteId), {});
    }
    // Delivered to several linked remote rooms, each under its own id (rooms left out are
    // delivered without one). forEachRemote (fan_out.h) answers so when rooms gave ids.
    static HookResult deliveredPerRoom(std::map<RemoteRoomId, RemoteMessageId> ids) {
        HookResult result(Kind::Delivered, {}, {});
        result.remoteIdsByRoom_ = std::move(ids);
        return result;
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
    const std::map<RemoteRoomId, RemoteMessageId>& remoteIdsByRoom() const { return remoteIdsByRoom_; }
    const Error& error() const { return error_; }

private:
    HookResult(Kind kind, RemoteMessageId id, Error error)
        : kind_(kind), remoteId_(std::move(id)), error_(std::move(error)) {}
    Kind kind_;
    RemoteMessageId remoteId_;
    std::map<RemoteRoomId, RemoteMessageId> remoteIdsByRoom_;
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
    // Every key starting with `prefix`, with its value, in key order; sees what get() sees.
    // For a bridge's own durable queues, read back at start. @since 0.4
    virtual std::vector<std::pair<std::string, std::string>> list(const std::string& prefix) = 0;
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

// A room-alias query (GET /rooms/{alias}). With a portal, the framework creates the room
// (linked to that remote room, with the alias) before answering 200, so the join proceeds.
struct AliasQueryAnswer {
    std::optional<PortalInfo> portal;
    static AliasQueryAnswer notFound() { return {}; }
    static AliasQueryAnswer create(PortalInfo portal) { return AliasQueryAnswer{std::move(portal)}; }
};

// A timer the framework runs on its own thread; cancelled when the handle is destroyed.
class [[nodiscard]] TimerHandle {
public:
    TimerHandle() = default;
    explicit TimerHandle(std::function<void()> cancel) : cancel_(std::move(cancel)) {}
    TimerHandle(TimerHandle&& other) noexcept : cancel_(std::move(other.cancel_)) { other.cancel_ = nullptr; }
    TimerHandle& operator=(TimerHandle&& other) noexcept {
        if (this != &other) {
            cancel();
            cancel_ = std::move(other.cancel_);
            other.cancel_ = nullptr;
        }
        return *this;
    }
    TimerHandle(const TimerHandle&) = delete;
    TimerHandle& operator=(const TimerHandle&) = delete;
    ~TimerHandle() { cancel(); }
    void cancel() {
        if (cancel_) std::exchange(cancel_, nullptr)();
    }

private:
    std::function<void()> cancel_;
};

// A Matrix room as a ghost sees it once it has joined (BridgeContext::joinRoomAs).
struct JoinedRoom {
    RoomId room;
    std::string name;   // m.room.name; empty when none
    std::string topic;  // m.room.topic; empty when none
    struct Member {
        UserId user;
        std::string displayName;  // empty when none
    };
    std::vector<Member> members;  // joined now, the ghost included
    // The room's last messages the ghost may read (the homeserver applies the room's history
    // visibility), oldest first; text, notices and emotes only.
    struct Line {
        EventId event;
        UserId sender;
        std::string body;
        std::optional<std::string> html;  // formatted_body, when org.matrix.custom.html
        std::int64_t timestampMs = 0;
    };
    std::vector<Line> history;
};

// Everything the framework gives a bridge. Valid from start() until stop() returns; every
// method may be called from any thread.
class BridgeContext {
public:
    virtual ~BridgeContext() = default;
    virtual const ConfigSection& config() const = 0;
    virtual Logger logger(const std::string& component) const = 0;
    virtual Metrics& metrics() = 0;
    virtual const std::string& serverName() const = 0;
    virtual UserId botUserId() const = 0;
    // The ghost for a remote user's id (the `{id}` of the user template), e.g. "@irc_alice:hs";
    // characters a localpart may not hold are escaped.
    virtual UserId ghostUserId(const std::string& ghostId) const = 0;
    virtual bool isGhost(const UserId& user) const = 0;

    // Remote to Matrix in one call: finds or creates the portal and the ghost, and queues the
    // change in the durable outbox, in order per portal. Never blocks on the homeserver.
    virtual void queueRemote(RemoteEvent event) = 0;
    // Tells the sender of a Matrix event, in the room, that it could not be delivered (for
    // failures found after the hook returned, e.g. a puppet that never reconnected).
    virtual void reportDeliveryFailure(const RoomId& room, const EventId& event,
                                       const Error& error) = 0;
    // The state of one remote connection: the bridge's own (subject.owner empty) or a login's.
    // Report every change (and repeats freely: only changes count); the framework logs it,
    // keeps the gauge and the state endpoint, and tells a login's owner when they must act.
    // See remote_state.h. Never call it while holding a lock the bridge's hooks take.
    virtual void reportState(const StateSubject& subject, const RemoteStatus& status) = 0;
    // A notice in `user`'s DM with the bridge bot (made first if they have none), for what
    // they must act on or would never hear of otherwise: an invitation on the network, a
    // join the network refused. Not for chatter. Never blocks on the homeserver. @since API 9
    virtual void tellUser(const UserId& user, const std::string& text) = 0;

    virtual Intent& bot() = 0;
    virtual Intent& intent(const UserId& user) = 0;  // a ghost (or the bot)

    virtual KvStore& kv() = 0;
    virtual LinkStore& links() = 0;
    virtual UserStore& users() = 0;
    virtual EventMappingStore& eventMappings() = 0;
    virtual CommandRegistry& commands() = 0;
    // Links to Matrix media that people on the remote network can open (media.h).
    virtual const MediaLinks& media() const = 0;
    // The running clients of users' logins (login.h), for a connector that implements
    // LoginHandler; for one that does not, acquire() makes nothing. @since API 4
    virtual RemoteClients& remoteClients() = 0;

    // Runs `task` on a framework timer thread; keep the handle while it should run.
    virtual TimerHandle every(std::chrono::milliseconds interval, std::function<void()> task) = 0;
    virtual TimerHandle after(std::chrono::milliseconds delay, std::function<void()> task) = 0;

    // Gateways: a remote user entering an existing Matrix room by its alias (the XMPP
    // bridge's MUC service), rather than a portal the bridge owns. resolveAlias() asks the
    // homeserver which room an alias names; joinRoomAs() has the ghost join it as a Matrix
    // client would (the room's join rules decide: the bot invites nobody), then reads its
    // members, name, topic and at most `historyLines` of its last messages. Neither is queued in the outbox (the remote user is waiting
    // and asks again); `done` runs once, on a framework thread, with the homeserver's errcode
    // (M_NOT_FOUND, M_FORBIDDEN…) as the error's code. An alias in the bridge's own
    // namespace is refused ("own_portal"): its portals are joined on their network.
    // @since API 7; `historyLines` since API 8
    virtual void resolveAlias(const RoomAlias& alias, std::function<void(Result<RoomId>)> done) {
        done(Error::permanent("unsupported", "this framework cannot resolve " + alias.str()));
    }
    virtual void joinRoomAs(const UserId& ghost, const RoomAlias& alias, std::size_t /*historyLines*/,
                            std::function<void(Result<JoinedRoom>)> done) {
        done(Error::permanent("unsupported", ghost.str() + " cannot join " + alias.str() + " here"));
    }
};

struct BridgeInfo {
    std::string name;
    std::string description;
    std::string defaultUserTemplate;   // ghost localparts, with one "{id}"
    std::string defaultAliasTemplate;  // portal alias localparts, with one "{id}"
    std::vector<std::string> protocols;
    std::string networkName;           // for m.bridge and notices, e.g. "IRC"
};

// The required part of a bridge. Optional abilities are the *Handler interfaces below: the
// framework checks once at load which ones a connector implements, and answers the sender of
// anything else with a notice that the bridge does not support it.
//
// Hooks run on the room's queue (one at a time per room, rooms in parallel), must not block
// on the network, and say what happened in their HookResult.
class Connector {
public:
    virtual ~Connector() = default;

    virtual BridgeInfo info() const = 0;
    // Called once before any hook. Connect to the network here without blocking on it:
    // connection trouble is a state to report, not a failure of start(). May throw
    // ConfigError for a bad bridge section.
    virtual void start(BridgeContext& context) = 0;
    // Called once at shutdown after the last hook returned.
    virtual void stop() {}

    // A message by a real Matrix user in a linked room (never the bridge's own echoes).
    virtual HookResult onMatrixMessage(const MatrixMessage& message) = 0;
    // Membership in any room the bridge sees, including invites of ghosts to new rooms
    // (a Matrix user starting a private chat with a remote user).
    virtual HookResult onMatrixMembership(const MatrixMembership&) { return HookResult::ignored(); }
    virtual HookResult onMatrixStateChange(const MatrixStateChange&) { return HookResult::ignored(); }

    // Queries, on a framework thread while the homeserver waits: answer quickly.
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

// Optional abilities. A connector inherits the ones its network supports.
class EditHandler {
public:
    virtual ~EditHandler() = default;
    virtual HookResult onMatrixEdit(const MatrixEdit& edit) = 0;
};
class RedactionHandler {
public:
    virtual ~RedactionHandler() = default;
    virtual HookResult onMatrixRedaction(const MatrixRedaction& redaction) = 0;
};
class ReactionHandler {
public:
    virtual ~ReactionHandler() = default;
    virtual HookResult onMatrixReaction(const MatrixReaction& reaction) = 0;
};
class TypingHandler {
public:
    virtual ~TypingHandler() = default;
    virtual HookResult onMatrixTyping(const MatrixTyping& typing) = 0;
};
class ReceiptHandler {
public:
    virtual ~ReceiptHandler() = default;
    virtual HookResult onMatrixReceipt(const MatrixReceipt& receipt) = 0;
};
class PresenceHandler {
public:
    virtual ~PresenceHandler() = default;
    virtual HookResult onMatrixPresence(const MatrixPresence& presence) = 0;
};
// A request to the homeserver that failed for good (403, 404, 400…): the outbox logged it
// with the room, the acting user and the reason, and counted it; the bridge hears of it
// here, e.g. to tell the remote sender. Called on an outbox thread; must not block.
struct MatrixRequestFailure {
    RoomId room;                // empty for requests outside a room (profiles, presence)
    UserId actor;               // the bot or the ghost that made it
    std::string kind;           // "send", "join", "redact", "state", …
    std::string errcode;        // e.g. M_FORBIDDEN
    std::string reason;
    RemoteMessageId remoteId;   // the remote message that did not reach Matrix, when known
};
class MatrixFailureHandler {
public:
    virtual ~MatrixFailureHandler() = default;
    virtual void onMatrixRequestFailed(const MatrixRequestFailure& failure) = 0;
};

// A link to make or remove, asked for through provisioning.
struct LinkRequest {
    Link link;
    bool unlink = false;
    UserId requester;               // the Matrix user acting (provisioning's user_id)
    bool requesterIsAdmin = false;  // listed in appservice.admins
};

// The error code of a link the bridge cannot consent to yet because it asked someone on the
// remote side (e.g. a channel's operators): nothing is stored now, the bridge stores the link
// itself if the answer is yes, and tells the requester either way. Provisioning answers 202.
inline constexpr const char* kLinkPending = "link_pending";

// Links made or removed through provisioning: the bridge consents (ok: the framework stores
// the change), refuses with an error the requester sees, or answers kLinkPending. Called on a
// provisioning worker thread; must not block on the network.
class LinkHandler {
public:
    virtual ~LinkHandler() = default;
    virtual Result<void> onLinkRequested(const LinkRequest& request) = 0;
};

// A bridge section that can be checked without connecting anywhere. `mxbridge check-config`
// and `mxbridge registration` call it, and `run` calls it before it opens the database, so a
// typo'd key or a missing setting is reported with file:line before anything starts.
// Throws ConfigError (ConfigSection::fail, rejectUnknownKeys); must not touch the network.
class ConfigValidator {
public:
    virtual ~ConfigValidator() = default;
    virtual void validateConfig(const ConfigSection& section) const = 0;
};

// Low level: every event exactly as received, instead of the classified hooks above (for
// bridges that speak Matrix JSON themselves, and for tests of the delivery pipeline).
class RawEventHandler {
public:
    virtual ~RawEventHandler() = default;
    virtual HookResult onMatrixEvent(const MatrixEvent& event) = 0;
    virtual HookResult onEphemeral(const MatrixEvent&) { return HookResult::ignored(); }
    virtual HookResult onToDevice(const MatrixEvent&) { return HookResult::ignored(); }
};

using ConnectorFactory = std::function<std::unique_ptr<Connector>()>;

// Built-in and plug-in bridges register themselves by name when their library loads.
class ConnectorRegistry {
public:
    // Without a plug-in API version: what plug-ins built before versions existed call.
    static void add(const std::string& name, const std::string& description,
                    ConnectorFactory factory);
    // `apiVersion`: the MXBRIDGE_PLUGIN_API_VERSION the registering code was compiled with.
    // One that is not this mxbridge's is not registered, only remembered for the loader.
    static void addVersioned(const std::string& name, const std::string& description,
                             ConnectorFactory factory, int apiVersion);
    static std::unique_ptr<Connector> create(const std::string& name);
    static std::vector<std::pair<std::string, std::string>> list();  // name, description
    // How many registrations have happened, and the name of the latest: how the loader
    // finds what a plug-in registered, even when it reuses a built-in's name.
    static uint64_t generation();
    static std::string lastAdded();
    // The plug-in API version of the latest registration (0: none given).
    static int lastApiVersion();
};

namespace detail {
struct ConnectorRegistrar {
    // Inline, so the version is the one the registering library was compiled with.
    ConnectorRegistrar(const char* name, const char* description, ConnectorFactory factory,
                       int apiVersion = MXBRIDGE_PLUGIN_API_VERSION) {
        ConnectorRegistry::addVersioned(name, description, std::move(factory), apiVersion);
    }
};
}  // namespace detail

}  // namespace mxbridge

// Ends a connector's file: registers `Class` under `name` when the library loads.
#define MXBRIDGE_BRIDGE(Class, name, description)                                        \
    static ::mxbridge::detail::ConnectorRegistrar mxbridgeRegistrar_##Class(             \
        name, description, [] { return std::unique_ptr<::mxbridge::Connector>(new Class); })
