#include "runtime.h"

#include <algorithm>
#include <map>
#include <random>
#include <thread>

#include "mxbridge/backoff.h"

#include "appservice/appservice_api.h"
#include "appservice/http_server.h"
#include "appservice/metrics_endpoint.h"
#include "appservice/webhook_endpoint.h"
#include "bridge/event_router.h"
#include "bridge/ghost_names.h"
#include "bridge/member_names.h"
#include "bridge/portal_manager.h"
#include "login/login_commands.h"
#include "login/login_provisioning.h"
#include "login/login_sessions.h"
#include "login/remote_clients_impl.h"
#include "matrix/gateway_joins.h"
#include "matrix/intent_pool.h"
#include "media/media_endpoint.h"
#include "media/media_link_signer.h"
#include "ops/admin_list.h"
#include "ops/bot_direct_chats.h"
#include "ops/command_registry_impl.h"
#include "ops/room_power.h"
#include "ops/provisioning_api.h"
#include "ops/remote_state_tracker.h"
#include "ops/state_endpoint.h"
#include "ops/timer_service.h"
#include "store/sqlite_portal_wait_store.h"
#include "store/sqlite_stores.h"
#include "journal/dispatcher.h"
#include "journal/hook_stage.h"
#include "journal/journal.h"
#include "matrix/hs_client.h"
#include "ops/bridge_health.h"
#include "store/database.h"
#include "util/fd_limit.h"
#include "store/instance_lock.h"
#include "store/private_files.h"

namespace mxbridge {

using namespace detail;

namespace {

// How long a room's queue waits, at most, for the answer to a send whose echo came first.
constexpr std::chrono::milliseconds kEchoMappingWait{5000};

class KvStoreImpl final : public KvStore {
public:
    explicit KvStoreImpl(Journal& journal) : journal_(journal) {}
    void put(const std::string& key, const std::string& value) override { write(key, value); }
    void erase(const std::string& key) override { write(key, std::nullopt); }
    std::optional<std::string> get(const std::string& key) override {
        if (HookStage* stage = currentHookStage(); stage && stage->kv) {
            for (auto it = stage->kv->rbegin(); it != stage->kv->rend(); ++it)
                if (it->key == key) return it->value;
        }
        return journal_.kvGet(key);
    }
    std::vector<std::pair<std::string, std::string>> list(const std::string& prefix) override {
        std::map<std::string, std::optional<std::string>> staged;
        if (HookStage* stage = currentHookStage(); stage && stage->kv)
            for (const KvWrite& w : *stage->kv)
                if (w.key.starts_with(prefix)) staged[w.key] = w.value;
        std::map<std::string, std::string> merged;
        for (auto& [key, value] : journal_.kvList(prefix)) merged[key] = std::move(value);
        for (auto& [key, value] : staged) {
            if (value) merged[key] = *value;
            else merged.erase(key);
        }
        return {std::make_move_iterator(merged.begin()), std::make_move_iterator(merged.end())};
    }

private:
    void write(const std::string& key, std::optional<std::string> value) {
        if (HookStage* stage = currentHookStage(); stage && stage->kv)
            stage->kv->push_back(KvWrite{key, std::move(value), 0});
        else journal_.kvWriteNow({KvWrite{key, std::move(value), 0}});
    }
    Journal& journal_;
};

// "irc_{id}" -> ("irc_", "")
std::pair<std::string, std::string> splitTemplate(const std::string& tmpl) {
    size_t at = tmpl.find("{id}");
    if (at == std::string::npos) return {tmpl, ""};
    return {tmpl.substr(0, at), tmpl.substr(at + 4)};
}

bool matchesTemplate(std::string_view localpart, const std::pair<std::string, std::string>& t) {
    return localpart.size() > t.first.size() + t.second.size() &&
           localpart.substr(0, t.first.size()) == t.first &&
           localpart.substr(localpart.size() - t.second.size()) == t.second;
}

// Spec versions look like "v1.7" or "r0.6.1".
std::pair<int, int> versionNumber(const std::string& v) {
    if (v.size() < 2 || v[0] != 'v') return {0, 0};
    int major = 0, minor = 0;
    if (std::sscanf(v.c_str() + 1, "%d.%d", &major, &minor) < 1) return {0, 0};
    return {major, minor};
}

}  // namespace

struct Runtime::Impl final : public QueryService, public BridgeContext {
    Config settings;
    Registration registration;
    std::unique_ptr<Connector> connector;
    RawEventHandler* raw = nullptr;  // set when the connector takes events unclassified
    std::unique_ptr<EventRouter> router;
    std::unique_ptr<MemberNames> memberNames;  // for MatrixMessage::senderName
    Logger log{"runtime"};
    Metrics registry;
    BridgeHealth health{&registry};  // what /health reports; the pipeline reports into it
    std::string botId;
    std::pair<std::string, std::string> userTemplate;
    std::pair<std::string, std::string> aliasTemplate;

    std::unique_ptr<InstanceLock> instanceLock;  // before the database: released after it
    std::unique_ptr<Database> database;
    std::unique_ptr<Journal> journal;
    std::unique_ptr<Dispatcher> dispatcher;
    std::unique_ptr<KvStoreImpl> kvStore;
    std::unique_ptr<AppserviceApi> api;
    std::unique_ptr<HttpServer> server;
    std::unique_ptr<MetricsEndpoint> metricsEndpoint;
    std::unique_ptr<HttpServer> metricsServer;
    std::unique_ptr<HomeserverClient> hs;
    std::unique_ptr<SqliteStores> stores;
    std::unique_ptr<IntentPool> intents;
    std::unique_ptr<SqlitePortalWaitStore> portalWaits;  // outlives `portals`
    std::unique_ptr<PortalManager> portals;
    std::unique_ptr<CommandRegistryImpl> commandRegistry;
    std::unique_ptr<TimerService> timers;
    std::unique_ptr<GatewayJoins> gatewayJoins;
    std::unique_ptr<ProvisioningApi> provisioning;
    MediaLinkSigner mediaLinks{MediaLinkOptions{}};  // off until configured (media.signing_key)
    std::unique_ptr<BotDirectChats> directChats;
    std::unique_ptr<RemoteStateTracker> remoteStates;
    std::unique_ptr<StateEndpoint> stateEndpoint;
    std::unique_ptr<RemoteClientsImpl> remoteClientsImpl;
    TimerHandle idleClientReaper;
    std::unique_ptr<LoginSessions> loginSessions;
    std::unique_ptr<LoginCommands> loginCommands;
    std::unique_ptr<LoginProvisioning> loginProvisioning;
    AdminList admins;
    std::string networkName;
    bool connectorStarted = false;
    std::atomic<bool> ready{false};
    std::atomic<bool> authenticatedMedia{false};  // the homeserver has spec v1.11 media endpoints
    std::unique_ptr<MediaEndpoint> mediaEndpoint;
    std::unique_ptr<WebhookEndpoint> webhookEndpoint;

    Counter* echoes = nullptr;
    Counter* failedDeliveries = nullptr;
    Counter* hookErrors = nullptr;
    Counter* unsupportedEvents = nullptr;
    Counter* unreadableEvents = nullptr;
    std::vector<std::pair<std::string, Counter*>> eventsByType;
    Counter* eventsOther = nullptr;

    Impl(Config c, Registration r, std::unique_ptr<Connector> conn)
        : settings(std::move(c)), registration(std::move(r)), connector(std::move(conn)) {
        botId = "@" + registration.senderLocalpart + ":" + settings.homeserver.serverName;
        raw = dynamic_cast<RawEventHandler*>(connector.get());
        BridgeInfo info = connector->info();
        userTemplate = splitTemplate(settings.appservice.userTemplate.empty()
                                         ? info.defaultUserTemplate : settings.appservice.userTemplate);
        aliasTemplate = splitTemplate(settings.appservice.aliasTemplate.empty()
                                          ? info.defaultAliasTemplate : settings.appservice.aliasTemplate);
        echoes = &registry.counter("mxbridge_echoes_total",
                                  "Events sent by the bridge's own bot or ghosts, not dispatched");
        failedDeliveries = &registry.counter("mxbridge_delivery_failures_total",
                                            "Matrix events the bridge could not deliver");
        hookErrors = &registry.counter("mxbridge_hook_exceptions_total",
                                      "Connector hooks that threw instead of returning a result");
        unsupportedEvents = &registry.counter("mxbridge_events_unsupported_total",
            "Matrix events the bridge cannot carry (the sender was told)");
        unreadableEvents = &registry.counter("mxbridge_events_unreadable_total",
            "Matrix events acknowledged but skipped because the bridge cannot read them");
        networkName = info.networkName.empty() ? info.name : info.networkName;
        admins = AdminList(settings.appservice.admins);
        for (const char* type : {"m.room.message", "m.room.member", "m.reaction", "m.room.redaction",
                                 "m.room.name", "m.room.topic", "m.room.power_levels", "m.typing",
                                 "m.receipt", "m.presence", "m.room.encrypted", "m.sticker"}) {
            eventsByType.emplace_back(type, &registry.counter("mxbridge_events_total",
                "Events received from the homeserver, by type", {{"type", type}}));
        }
        eventsOther = &registry.counter("mxbridge_events_total", "", {{"type", "other"}});
    }

    // --- BridgeContext ---
    const ConfigSection& config() const override { return settings.bridge.section; }
    Logger logger(const std::string& component) const override { return Logger(component); }
    KvStore& kv() override { return *kvStore; }
    Metrics& metrics() override { return registry; }
    const std::string& serverName() const override { return settings.homeserver.serverName; }
    UserId botUserId() const override { return UserId(botId); }
    UserId ghostUserId(const std::string& ghostId) const override {
        return ghostUserIdFor(userTemplate.first, userTemplate.second,
                              settings.homeserver.serverName, ghostId);
    }
    bool isGhost(const UserId& user) const override { return user.str() != botId && isOurs(user.str()); }
    void queueRemote(RemoteEvent event) override { portals->queueRemote(std::move(event)); }
    void reportDeliveryFailure(const RoomId& room, const EventId& event, const Error& error) override {
        failedDeliveries->inc();
        log.warn("event could not be delivered to the remote side",
                 {{"room_id", room.str()}, {"event_id", event.str()}, {"code", error.code},
                  {"reason", error.message}});
        tellSender(room, event, error.message);
    }
    void reportState(const StateSubject& subject, const RemoteStatus& status) override {
        remoteStates->report(subject, status);
    }
    void tellUser(const UserId& user, const std::string& text) override { directChats->tell(user, text); }
    Intent& bot() override { return intents->bot(); }
    Intent& intent(const UserId& user) override { return intents->intent(user); }
    LinkStore& links() override { return stores->links(); }
    UserStore& users() override { return stores->users(); }
    EventMappingStore& eventMappings() override { return stores->eventMappings(); }
    CommandRegistry& commands() override { return *commandRegistry; }
    const MediaLinks& media() const override { return mediaLinks; }
    RemoteClients& remoteClients() override { return *remoteClientsImpl; }
    TimerHandle every(std::chrono::milliseconds interval, std::function<void()> task) override {
        return timers->every(interval, std::move(task));
    }
    TimerHandle after(std::chrono::milliseconds delay, std::function<void()> task) override {
        return timers->after(delay, std::move(task));
    }
    void resolveAlias(const RoomAlias& alias, std::function<void(Result<RoomId>)> done) override {
        gatewayJoins->resolveAlias(alias, std::move(done));
    }
    void joinRoomAs(const UserId& ghost, const RoomAlias& alias, std::size_t historyLines,
                    std::function<void(Result<JoinedRoom>)> done) override {
        gatewayJoins->joinRoomAs(ghost, alias, historyLines, std::move(done));
    }

    // The first words of a message, for a notice that names it.
    static std::string snippetOf(const MatrixEvent& event) {
        auto it = event.content().find("body");
        if (it == event.content().end() || !it->is_string()) return {};
        std::string body = it->get<std::string>();
        if (body.size() <= 60) return body;
        size_t cut = 57;
        while (cut > 0 && (static_cast<unsigned char>(body[cut]) & 0xC0) == 0x80) --cut;  // UTF-8
        return body.substr(0, cut) + "...";
    }

    // "No message vanishes silently": the sender sees a notice in the room, replying to the
    // message that was lost, with the reason.
    void tellSender(const RoomId& room, const EventId& event, const std::string& reason,
                    const std::string& snippet = {}) {
        if (room.empty() || !intents) return;
        OutgoingMessage notice;
        notice.kind = MessageKind::Notice;
        notice.body = "\u26A0 Your message" + (snippet.empty() ? std::string() : " \"" + snippet + "\"") +
                      " was not delivered to " + networkName + ": " + reason;
        if (!event.empty()) notice.replyTo = event;
        intents->bot().sendMessage(room, notice);
    }

    bool isOurs(std::string_view userId) const {
        if (userId == botId) return true;
        if (serverOf(userId) != settings.homeserver.serverName) return false;
        return matchesTemplate(localpartOf(userId), userTemplate);
    }

    void countEvent(const std::string& type) {
        for (auto& [name, counter] : eventsByType) {
            if (name == type) {
                counter->inc();
                return;
            }
        }
        eventsOther->inc();
    }

    // An event whose shape the spec forbids (content not an object...) or whose numbers the
    // bridge cannot use was acknowledged: refusing it would stall the homeserver's whole stream
    // (FIELD-NOTES). It never reaches a hook; it is logged, counted and, in a portal, where
    // the bot speaks, its sender is told.
    void skipUnreadable(const MatrixEvent& event, const std::string& reason, HookStage& stage) {
        unreadableEvents->inc();
        log.warn("event skipped: the bridge cannot read it",
                 {{"room_id", event.roomId().str()}, {"event_id", event.eventId().str()},
                  {"sender", event.sender().str()}, {"type", event.type()}, {"reason", reason}});
        if (event.source() != EventSource::Timeline) return;
        bool inPortal = false;
        try {
            inPortal = !stores->links().forRoom(event.roomId()).empty();
        } catch (const std::exception& e) {  // a worker thread must not end on a store error
            log.warn("could not tell the sender of a skipped event",
                     {{"event_id", event.eventId().str()}, {"error", e.what()}});
        }
        if (!inPortal) return;
        currentHookStage() = &stage;  // the notice commits with the done mark
        tellSender(event.roomId(), event.eventId(), "the bridge could not read it (" + reason + ")");
        currentHookStage() = nullptr;
    }

    // The homeserver pushes the echo of an event it created for us before our request hears
    // its answer; the event is mapped only when the answer is handled. A reaction, edit or
    // reply to it comes after the echo in this room's queue, so holding the queue here until
    // the send in flight is answered lets them find the remote message (seen as a race in
    // integration_irc: "reacted 👍" without "to bob").
    void awaitOwnSend(const MatrixEvent& event) {
        if (event.isState()) return;
        const std::string& room = event.roomId().str();
        auto& outbox = intents->outbox();
        if (!outbox.inFlight(room)) return;
        try {
            if (stores->eventMappings().remoteFor(event.eventId())) return;
        } catch (const std::exception& e) {
            log.warn("could not look up an echo's mapping", {{"event_id", event.eventId().str()}, {"error", e.what()}});
            return;
        }
        if (!outbox.waitInFlight(room, kEchoMappingWait))
            log.debug("an echo's send was not answered in time; what relates to it may not find it",
                      {{"event_id", event.eventId().str()}, {"room_id", room}});
    }

    HandleResult handle(DispatchItem& item) {
        const MatrixEvent& event = item.event;
        HandleResult result;
        if (item.attempts == 0) countEvent(event.type());
        if (event.source() == EventSource::Timeline && isOurs(event.sender().str())) {
            // Our own bot's and ghosts' events come back to us; handing them to the bridge
            // would loop them back to the remote side.
            echoes->inc();
            awaitOwnSend(event);
            return result;
        }
        HookStage stage{&result.writes, &result.ops};
        if (!item.unreadable.empty()) {
            skipUnreadable(event, item.unreadable, stage);
            return result;
        }
        HookResult hook = HookResult::ignored();
        currentHookStage() = &stage;
        try {
            if (raw) {
                switch (event.source()) {
                    case EventSource::Timeline: hook = raw->onMatrixEvent(event); break;
                    case EventSource::Ephemeral: hook = raw->onEphemeral(event); break;
                    case EventSource::ToDevice: hook = raw->onToDevice(event); break;
                }
            } else {
                hook = router->route(event);
            }
        } catch (const std::exception& e) {
            hookErrors->inc();
            hook = HookResult::failed(Error::permanent("hook_exception", e.what()));
        } catch (...) {
            hookErrors->inc();
            hook = HookResult::failed(Error::permanent("hook_exception", "unknown exception"));
        }
        currentHookStage() = nullptr;
        if (hook.kind() == HookResult::Kind::Failed) {
            constexpr uint32_t kMaxAttempts = 8;
            // The first retry waits 250-375 ms, doubling up to 32-48 s.
            constexpr BackoffOptions kRetryBackoff{.initial = std::chrono::milliseconds(375),
                                                   .max = std::chrono::milliseconds(48'000),
                                                   .jitter = 1.0 / 3.0};
            if (hook.error().retryable && item.attempts + 1 < kMaxAttempts) {
                // Exponential back-off with jitter; the room waits, other rooms go on.
                result.writes.clear();
                result.ops.clear();
                result.retry = true;
                result.retryAfter = Backoff::delayAfter(kRetryBackoff, item.attempts);
                return result;
            }
            failedDeliveries->inc();
            log.warn("event could not be delivered to the remote side",
                     {{"room_id", event.roomId().str()}, {"event_id", event.eventId().str()},
                      {"sender", event.sender().str()}, {"code", hook.error().code},
                      {"reason", hook.error().message}});
            if (event.source() == EventSource::Timeline && !raw) {
                currentHookStage() = &stage;  // the notice commits with the done mark
                tellSender(event.roomId(), event.eventId(), hook.error().message, snippetOf(event));
                currentHookStage() = nullptr;
            }
        } else if (hook.kind() == HookResult::Kind::Unsupported) {
            unsupportedEvents->inc();
            if (event.source() == EventSource::Timeline) {
                currentHookStage() = &stage;
                tellSender(event.roomId(), event.eventId(), hook.error().message, snippetOf(event));
                currentHookStage() = nullptr;
            }
        }
        return result;
    }

    // --- QueryService ---
    bool queryUser(const std::string& userId) override {
        if (userId == botId || !isOurs(userId)) return false;
        UserQueryAnswer answer = connector->onUserQuery(UserId(userId));
        if (!answer.exists) return false;
        std::string localpart(localpartOf(userId));
        HsResponse r = hs->call("POST", "/_matrix/client/v3/register",
                                nlohmann::json{{"type", "m.login.application_service"},
                                               {"username", localpart},
                                               {"inhibit_login", true}});
        if (!r.ok() && r.errcode() != "M_USER_IN_USE")
            throw std::runtime_error("registering " + userId + " failed: " + r.error());
        if (answer.displayName) {
            hs->call("PUT", "/_matrix/client/v3/profile/" + urlEncode(userId) + "/displayname",
                     nlohmann::json{{"displayname", *answer.displayName}}, userId);
        }
        return true;
    }

    bool queryAlias(const std::string& alias) override {
        if (serverOf(alias) != settings.homeserver.serverName) return false;
        std::string localpart(localpartOf(alias));
        if (!matchesTemplate(localpart, aliasTemplate)) return false;
        std::shared_ptr<void> inFlight = portals->aliasQueryInFlight();
        AliasQueryAnswer answer = connector->onAliasQuery(RoomAlias(alias));
        if (!answer.portal) return false;
        // The alias being asked for is the one the room gets, whatever the bridge's aliasId.
        // The query runner answers "try again shortly" at the query's deadline and lets this
        // go on, so the wait must outlast that deadline: a fixed 30 s answered 500 to queries
        // allowed longer (appservice.query_timeout_seconds above 30).
        const auto creationWait = std::max<std::chrono::seconds>(
            std::chrono::seconds(30), std::chrono::seconds(settings.appservice.queryTimeoutSeconds + 5));
        Result<RoomId> room = portals->ensurePortal(*answer.portal, localpart, creationWait);
        if (!room.ok()) throw std::runtime_error("creating the room for " + alias + " failed: " +
                                                 room.error().message);
        // A room that already existed (linked earlier) gets the alias now; a new one has it.
        if (!aliasOwned(alias, room.value())) intents->bot().setRoomAlias(localpart, room.value());
        return true;
    }

    // Whether `alias` already points at `room` (the homeserver asked, so normally not).
    bool aliasOwned(const std::string& alias, const RoomId& room) {
        HsResponse r = hs->call("GET", "/_matrix/client/v3/directory/room/" + urlEncode(alias));
        return r.ok() && r.body.is_object() && r.body.value("room_id", "") == room.str();
    }

    std::optional<nlohmann::json> thirdpartyProtocol(const std::string& protocol) override {
        return connector->onThirdpartyProtocol(protocol);
    }
    nlohmann::json thirdpartyQuery(const std::string& kind, const std::string& protocol,
                                   const std::map<std::string, std::string>& fields) override {
        return connector->onThirdpartyQuery(kind, protocol, fields);
    }
    std::string healthProblem() override {
        return ready ? health.problem() : std::string("starting");
    }

    // A config file holding tokens or passwords that other users may read gives the bridge
    // away (issue 9, item 18); the registration file is written 0600 already.
    void warnAboutReadableSecrets() const {
        if (settings.secretsInFile.empty() || !readableByOthers(settings.sourceFile)) return;
        std::string keys;
        for (const auto& k : settings.secretsInFile) keys += (keys.empty() ? "" : ", ") + k;
        log.warn("the config file holds secrets and other users may read it: chmod 600 " +
                     settings.sourceFile + ", or pass the secrets as MXBRIDGE_..._FILE variables",
                 {{"file", settings.sourceFile}, {"keys", keys}});
    }

    void checkHomeserver();

    // Media links (media.h) signed with media.signing_key, or a key derived from the
    // as_token so they work without one; pointing at media.public_url, else
    // appservice.public_url.
    void configureMediaLinks() {
        const MediaConfig& m = settings.media;
        if (!m.enabled) return;
        Secret<std::string> key = m.signingKey;
        if (key.empty()) key = deriveMediaLinkKey(registration.asToken);
        const std::string url = m.publicUrl.empty() ? settings.appservice.publicUrl : m.publicUrl;
        mediaLinks = MediaLinkSigner(MediaLinkOptions{
            .publicUrl = url,
            .signingKey = key,
            .lifetime = std::chrono::hours(24) * m.linkLifetimeDays,
        });
        if (isLoopbackUrl(url))
            log.warn("media links point at an address remote users cannot reach; set media.public_url "
                     "(and forward /_mxbridge/media/ to this listener)",
                     {{"url", url}});
    }
};

void Runtime::Impl::checkHomeserver() {
    const auto& url = settings.homeserver.url;
    // 1. /versions, retried while the homeserver starts.
    auto deadline = std::chrono::steady_clock::now() + settings.homeserver.startupTimeout;
    std::chrono::milliseconds wait(250);
    HsResponse versions;
    for (;;) {
        versions = hs->call("GET", "/_matrix/client/versions");
        if (versions.ok()) break;
        bool transient = versions.status == 0 || versions.status >= 500;
        if (!transient) {
            throw StartupError(kExitHomeserverDown,
                               url + "/_matrix/client/versions answered HTTP " +
                                   std::to_string(versions.status) +
                                   ": homeserver.url must be the homeserver's client-server API "
                                   "base URL (e.g. http://localhost:8008)");
        }
        if (std::chrono::steady_clock::now() + wait > deadline) {
            throw StartupError(kExitHomeserverDown,
                               "the homeserver at " + url + " did not answer within " +
                                   std::to_string(settings.homeserver.startupTimeout.count()) +
                                   " s (" + versions.error() + "); check homeserver.url and that "
                                   "the homeserver is running");
        }
        log.info("waiting for the homeserver", {{"url", url}, {"problem", versions.error()}});
        std::this_thread::sleep_for(wait);
        wait = std::min(wait * 2, std::chrono::milliseconds(5000));
    }
    std::pair<int, int> newest{0, 0};
    if (versions.body.is_object() && versions.body.contains("versions") &&
        versions.body["versions"].is_array()) {
        for (const auto& v : versions.body["versions"])
            if (v.is_string()) newest = std::max(newest, versionNumber(v.get<std::string>()));
    }
    if (newest < std::pair<int, int>{1, 1}) {
        throw StartupError(kExitHomeserverTooOld,
                           "the homeserver at " + url + " supports no Matrix spec version from "
                           "v1.1 on (it lists " + versions.body.value("versions", nlohmann::json::array()).dump() +
                           "); upgrade the homeserver");
    }
    // Homeservers send the hs_token in the Authorization header since spec v1.4 (Application
    // Service API, "Authorisation"); one listing nothing newer (Synapse up to 1.67) sends it
    // only as ?access_token=. Refusing that, every transaction and query would fail while
    // the log said "running" and users saw "Room alias not found".
    if (newest < std::pair<int, int>{1, 4} && !settings.appservice.allowQueryToken) {
        throw StartupError(kExitHomeserverTooOld,
                           "the homeserver at " + url + " lists no Matrix spec version from v1.4 on "
                           "(it lists " + versions.body.value("versions", nlohmann::json::array()).dump() +
                           "), so it authenticates its requests to the bridge only with "
                           "?access_token=, which the bridge refuses: set "
                           "appservice.allow_query_token: true, or upgrade the homeserver");
    }
    authenticatedMedia = newest >= std::pair<int, int>{1, 11};
    // 2. whoami as the bridge bot: proves the homeserver loaded our registration.
    HsResponse whoami = hs->call("GET", "/_matrix/client/v3/account/whoami");
    if (!whoami.ok()) {
        throw StartupError(kExitTokenRejected,
                           "the homeserver refused the as_token (" + whoami.error() + "): add " +
                               settings.appservice.registrationFile +
                               " to app_service_config_files in the homeserver's config "
                               "(homeserver.yaml for Synapse) and restart it");
    }
    std::string who = whoami.body.is_object() ? whoami.body.value("user_id", "") : "";
    if (who != botId) {
        throw StartupError(kExitTokenRejected,
                           "the as_token belongs to " + who + ", not " + botId +
                               ": the homeserver has a different registration for this token; "
                               "check sender_localpart and homeserver.server_name");
    }
    // 3. The appservice ping (spec v1.7+): proves the homeserver can reach us and accepts our
    // answers. Older homeservers lack it; say so and go on.
    if (newest < std::pair<int, int>{1, 7}) {
        log.warn("the homeserver predates the appservice ping (spec v1.7); cannot verify it "
                 "reaches us at " + settings.appservice.publicUrl);
        return;
    }
    std::string txn = "mxbridge-startup-" + std::to_string(std::random_device{}());
    HsResponse ping = hs->call("POST", "/_matrix/client/v1/appservice/" + urlEncode(registration.id) + "/ping",
                               nlohmann::json{{"transaction_id", txn}});
    if (!ping.ok()) {
        std::string code = ping.errcode();
        std::string advice;
        if (code == "M_URL_NOT_SET") advice = "the registration has no url: set appservice.public_url and regenerate the registration";
        else if (code == "M_CONNECTION_FAILED" || code == "M_CONNECTION_TIMEOUT")
            advice = "the homeserver cannot reach " + settings.appservice.publicUrl +
                     ": make appservice.public_url an address the homeserver can connect to, "
                     "and appservice.bind_address/port match it";
        else if (code == "M_BAD_STATUS")
            advice = "the homeserver reached us but our answer was an error: the hs_token in the "
                     "homeserver's copy of the registration differs from ours";
        else advice = ping.error();
        throw StartupError(kExitPingFailed, "appservice ping failed (" +
                                                (code.empty() ? std::to_string(ping.status) : code) +
                                                "): " + advice);
    }
    log.info("homeserver reaches the bridge",
             {{"duration_ms", ping.body.is_object() ? ping.body.value("duration_ms", 0) : 0}});
}

Runtime::Runtime(Config config, Registration registration, std::unique_ptr<Connector> connector)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(registration), std::move(connector))) {}

Runtime::~Runtime() { stop(); }

uint16_t Runtime::port() const { return impl_->server ? impl_->server->port() : 0; }

void Runtime::start() {
    Impl& s = *impl_;
    const Config& c = s.settings;
    if (!TransactionParser::cpuSupported()) {
        throw StartupError(kExitFailure, "this mxbridge was built for CPUs with AVX2, which this "
                                         "machine lacks; rebuild with -DMXBRIDGE_SIMD_LEVEL=generic");
    }
    // Before anything opens descriptors: puppets and inbound connections need many (fd_limit.h).
    FdLimitChange fds = raiseFdLimitToHard();
    if (fds.error.empty()) {
        s.log.info("open-file limit", {{"soft_before", fds.before}, {"soft", fds.after}, {"hard", fds.hard}});
    } else {
        s.log.warn("could not raise the open-file limit to the hard limit; raise it for the service "
                   "(systemd: LimitNOFILE=)",
                   {{"soft", fds.before}, {"hard", fds.hard}, {"error", fds.error}});
    }
    s.warnAboutReadableSecrets();
    try {
        s.instanceLock = std::make_unique<InstanceLock>(c.database.path);
        s.database = std::make_unique<Database>(c.database.path, c.bridge.type, c.database.durability);
    } catch (const AlreadyRunningError& e) {
        throw StartupError(kExitAlreadyRunning, e.what());
    } catch (const DatabaseError& e) {
        throw StartupError(kExitDatabase, e.what());
    }
    s.journal = std::make_unique<Journal>(*s.database, JournalOptions{}, s.registry);
    s.journal->reportTo(s.health);
    s.kvStore = std::make_unique<KvStoreImpl>(*s.journal);
    s.dispatcher = std::make_unique<Dispatcher>(
        c.appservice.dispatchWorkers, [&s](DispatchItem& item) { return s.handle(item); },
        [&s](std::vector<Completion>&& done) { s.journal->complete(std::move(done)); }, s.registry,
        [&s](std::vector<KvWrite>& writes) { s.journal->showWrites(writes); });
    s.hs = std::make_unique<HomeserverClient>(c.homeserver.url, s.registration.asToken);
    s.hs->reportTo(s.health);

    std::vector<DispatchItem> replay = s.journal->recover();
    // The writer runs from here on: stores and the outbox write through it from the start.
    s.journal->start([&s](std::vector<DispatchItem>&& items) { s.dispatcher->enqueue(std::move(items)); },
                     [&s] { return s.dispatcher->backlog(); });

    try {
        s.stores = std::make_unique<SqliteStores>(*s.database, *s.journal, c.database.secretKey);
    } catch (const std::exception& e) {
        throw StartupError(kExitDatabase, e.what());
    }
    UserId bot(s.botId);
    s.intents = std::make_unique<IntentPool>(
        *s.database, *s.journal, *s.hs, s.registry, bot, OutboxOptions{},
        [&s](const SentEvent& sent) {
            // Map what the bridge sent, so edits, replies and redactions find it later.
            if (sent.remoteId.empty() || sent.event.empty()) return;
            if (!sent.remoteRoom.empty()) {
                s.stores->eventMappings().map(sent.room, sent.event, sent.remoteRoom, sent.remoteId);
                return;
            }
            // The public Intent (PortalManager's sends) names no remote room, and lookups
            // (eventFor) go by remote room: map the event under each room linked to this one.
            // The portals' edits, redactions and reactions of it wait for this mapping.
            auto answered = [&] {
                if (s.portals) s.portals->sendAnswered(sent.room, sent.remoteId);
            };
            try {
                auto links = s.stores->links().forRoom(sent.room);
                for (const Link& link : links)
                    s.stores->eventMappings().map(sent.room, sent.event, link.remote, sent.remoteId);
                if (links.empty())
                    s.stores->eventMappings().map(sent.room, sent.event, sent.remoteRoom, sent.remoteId);
            } catch (...) {
                answered();
                throw;
            }
            answered();
        },
        [&s, bot](const OutboxFailure& failure) {
            // A login secret the bot could not redact: its owner must delete it themselves.
            if (failure.kind == "redact" && failure.actor == bot && s.loginCommands)
                s.loginCommands->onRedactionRefused(failure.room, failure.target,
                                                    failure.reason.empty() ? failure.errcode : failure.reason);
            // What waits for this send's answer in its portal goes on without it.
            if (s.portals && !failure.remoteId.empty()) s.portals->sendAnswered(failure.room, failure.remoteId);
            // The outbox has logged and counted it; the bridge hears of it too.
            if (auto* handler = dynamic_cast<MatrixFailureHandler*>(s.connector.get())) {
                try {
                    handler->onMatrixRequestFailed(MatrixRequestFailure{
                        failure.room, failure.actor, failure.kind, failure.errcode,
                        failure.reason, failure.remoteId});
                } catch (const std::exception& e) {
                    s.hookErrors->inc();
                    s.log.error("onMatrixRequestFailed threw", {{"error", e.what()}});
                }
            }
        });
    BridgeInfo info = s.connector->info();
    s.portalWaits = std::make_unique<SqlitePortalWaitStore>(*s.database, *s.journal);
    s.portals = std::make_unique<PortalManager>(PortalManager::Deps{
        [&s](const UserId& user) -> Intent& { return s.intents->intent(user); },
        s.intents->bot(), s.stores->links(), s.stores->users(), s.stores->eventMappings(),
        [&s](const std::string& ghostId) { return s.ghostUserId(ghostId); },
        [&s](const std::string& aliasId) {
            return aliasId.empty() ? std::string()
                                   : s.aliasTemplate.first + escapeGhostId(aliasId) + s.aliasTemplate.second;
        },
        info.name, s.networkName, s.registry, Logger("portals"), 1, s.portalWaits.get()});
    // Before the bridge starts reporting: what waited for a portal comes first, in order.
    s.portals->resumeWaiting();
    // A room's power levels, as the provisioning API and room-changing commands check them.
    PowerLevelsFetch powerLevels = [&s](const RoomId& room) -> std::optional<nlohmann::json> {
        HsResponse r = s.hs->call("GET", "/_matrix/client/v3/rooms/" + urlEncode(room.str()) +
                                             "/state/m.room.power_levels/");
        if (!r.ok()) return std::nullopt;
        return r.body;
    };
    s.commandRegistry = std::make_unique<CommandRegistryImpl>(
        info.name, MXBRIDGE_VERSION, [&s, powerLevels](const UserId& user, const RoomId& room) {
            return checkRoomManagePower(powerLevels, user, room, s.log);
        });
    s.timers = std::make_unique<TimerService>();
    s.gatewayJoins = std::make_unique<GatewayJoins>(
        *s.hs,
        [&s](const RoomAlias& alias) {
            return serverOf(alias.str()) == s.settings.homeserver.serverName &&
                   matchesTemplate(localpartOf(alias.str()), s.aliasTemplate);
        },
        [&s](const UserId& user) { return s.isGhost(user); });
    s.directChats = std::make_unique<BotDirectChats>(s.intents->bot(), *s.kvStore);
    s.remoteStates = std::make_unique<RemoteStateTracker>(RemoteStateTracker::Deps{
        .metrics = s.registry,
        .schedule = [&s](std::chrono::milliseconds delay, std::function<void()> task) {
            return s.timers->after(delay, std::move(task));
        },
        .tellOwner = [&s](const UserId& owner, const std::string& text) { s.directChats->tell(owner, text); },
        .transientGrace = std::chrono::seconds(c.remote.transientGraceSeconds),
        .networkName = s.networkName});
    s.remoteClientsImpl = std::make_unique<RemoteClientsImpl>(RemoteClientsImpl::Deps{
        .handler = dynamic_cast<LoginHandler*>(s.connector.get()),
        .store = s.stores->logins(),
        .reportState = [&s](const StateSubject& subject, const RemoteStatus& status) {
            s.remoteStates->report(subject, status);
        },
        .idleTimeout = std::chrono::minutes(c.login.idleMinutes)});
    s.loginSessions = std::make_unique<LoginSessions>(LoginSessions::Deps{
        .clients = *s.remoteClientsImpl,
        .schedule = [&s](std::chrono::milliseconds delay, std::function<void()> task) {
            return s.timers->after(delay, std::move(task));
        },
        .stepTimeout = std::chrono::seconds(c.login.stepTimeoutSeconds),
        .networkName = s.networkName,
        .metrics = s.registry});
    s.loginCommands = std::make_unique<LoginCommands>(LoginCommands::Deps{
        .sessions = *s.loginSessions,
        .clients = *s.remoteClientsImpl,
        .store = s.stores->logins(),
        .states = *s.remoteStates,
        .bot = s.intents->bot(),
        .networkName = s.networkName});
    // Before the connector starts, so a bridge's own command of the same name wins.
    s.loginCommands->registerIn(*s.commandRegistry);
    s.memberNames = std::make_unique<MemberNames>(MemberNames::viaHomeserver(*s.hs));
    s.router = std::make_unique<EventRouter>(EventRouter::Deps{
        *s.connector, bot,
        [&s](const RoomId& room) {
            std::vector<RemoteRoomId> remotes;
            for (const Link& link : s.stores->links().forRoom(room)) remotes.push_back(link.remote);
            return remotes;
        },
        [&s](const EventId& event) { return s.stores->eventMappings().remoteFor(event); },
        [&s](const UserId& user) { return s.isGhost(user); },
        [&s](const UserId& sender, const RoomId& room, const std::string& body) {
            bool handled = s.commandRegistry->handle(sender, room, body, s.admins.isAdmin(sender),
                                                     [&s, room](const std::string& text) {
                                                         OutgoingMessage reply;
                                                         reply.kind = MessageKind::Notice;
                                                         reply.body = text;
                                                         s.intents->bot().sendMessage(room, reply);
                                                     });
            // Where they talk to the bot is where the bot tells them what needs them.
            if (handled) s.directChats->remember(sender, room);
            return handled;
        },
        [&s](const RoomId& room, const UserId& inviter) {
            s.log.info("joining a room the bot was invited to",
                       {{"room_id", room.str()}, {"inviter", inviter.str()}});
            s.intents->bot().join(room);
        },
        s.memberNames.get(),
        [&s](const UserId& sender, const RoomId& room, const EventId& event, const std::string& body) {
            return s.loginCommands->onDirectMessage(sender, room, event, body);
        },
        [&s](const RoomId& room, const EventId& event, const RemoteRoomId& remote, const RemoteMessageId& id) {
            s.stores->eventMappings().map(room, event, remote, id);
        }});

    s.configureMediaLinks();
    s.connector->start(s);
    s.connectorStarted = true;
    // Users' stored logins run again, made without network calls and connecting on their own.
    s.remoteClientsImpl->loadStored();
    if (c.login.idleMinutes > 0 && s.remoteClientsImpl->hasLogins())
        s.idleClientReaper = s.timers->every(std::chrono::minutes(1), [&s] { s.remoteClientsImpl->reapIdle(); });
    s.dispatcher->enqueue(std::move(replay));
    s.dispatcher->start();
    s.intents->outbox().reportTo(s.health);
    s.intents->start();

    AppserviceApiOptions apiOptions;
    apiOptions.hsToken = s.registration.hsToken;
    apiOptions.allowQueryToken = c.appservice.allowQueryToken;
    apiOptions.maxBodyBytes = c.appservice.maxBodyBytes;
    apiOptions.serveMetrics = c.metrics.enabled && c.metrics.port == 0;
    apiOptions.queryDeadline = std::chrono::seconds(c.appservice.queryTimeoutSeconds);
    s.api = std::make_unique<AppserviceApi>(apiOptions, *s.journal, s, s.registry);
    if (c.provisioning.enabled) {
        auto* linkHandler = dynamic_cast<LinkHandler*>(s.connector.get());
        s.provisioning = std::make_unique<ProvisioningApi>(
            ProvisioningOptions{c.provisioning.sharedSecret, info.name, s.networkName},
            s.stores->links(), powerLevels,
            [&s, linkHandler](const Link& link, bool unlink, const UserId& user) -> Result<void> {
                if (!linkHandler) return Result<void>();
                return linkHandler->onLinkRequested(LinkRequest{link, unlink, user, s.admins.isAdmin(user)});
            },
            s.registry);
        s.loginProvisioning = std::make_unique<LoginProvisioning>(LoginProvisioning::Deps{
            .sessions = *s.loginSessions, .clients = *s.remoteClientsImpl,
            .store = s.stores->logins(), .states = *s.remoteStates});
        s.loginProvisioning->registerIn(*s.provisioning);
        s.api->setProvisioning(s.provisioning.get());
    }
    if (s.mediaLinks.enabled()) {
        s.mediaEndpoint = std::make_unique<MediaEndpoint>(
            s.mediaLinks, homeserverMediaFetch(*s.hs, [&s] { return s.authenticatedMedia.load(); }),
            c.media.maxBytes, s.registry);
        s.api->setMedia(s.mediaEndpoint.get());
    }
    // Served with provisioning's secret; while provisioning is off it refuses everyone.
    s.stateEndpoint = std::make_unique<StateEndpoint>(
        c.provisioning.enabled ? c.provisioning.sharedSecret : Secret<std::string>(), *s.remoteStates);
    s.api->setStateEndpoint(s.stateEndpoint.get());
    // A connector that takes webhooks (mxbridge/webhook.h) gets /_mxbridge/webhook/ here.
    if (auto* webhooks = dynamic_cast<WebhookHandler*>(s.connector.get())) {
        s.webhookEndpoint = std::make_unique<WebhookEndpoint>(*webhooks, s.registry);
        s.api->setWebhook(s.webhookEndpoint.get());
    }
    // Two I/O threads: the ack path is short, and the journal writer needs a core too.
    s.server = std::make_unique<HttpServer>(*s.api, 2);
    try {
        s.server->listen(c.appservice.bindAddress, c.appservice.port);
    } catch (const std::system_error& e) {
        throw StartupError(kExitListen, e.what());
    }
    s.log.info("listening for the homeserver",
               {{"address", c.appservice.bindAddress}, {"port", s.server->port()},
                {"bridge", c.bridge.type}});
    if (c.metrics.enabled && c.metrics.port != 0) {
        s.metricsEndpoint = std::make_unique<MetricsEndpoint>(s.registry, [&s] { return s.healthProblem(); });
        s.metricsServer = std::make_unique<HttpServer>(*s.metricsEndpoint, 1);
        try {
            s.metricsServer->listen(c.metrics.bindAddress, c.metrics.port);
        } catch (const std::system_error& e) {
            throw StartupError(kExitListen, std::string("metrics listener: ") + e.what());
        }
    }
    if (c.homeserver.checkOnStartup) s.checkHomeserver();
    s.intents->outbox().setAuthenticatedMedia(s.authenticatedMedia.load());
    s.ready = true;
    s.log.info("bridge is running", {{"bot", s.botId}});
}

void Runtime::stop() {
    Impl& s = *impl_;
    s.ready = false;
    // While commits fail (full disk, database file gone), writes made outside a hook would
    // hold the connector's and the outbox's threads, joined below, forever.
    if (s.journal) s.journal->stopWaiting();
    // Order matters: no new transactions, then the ones in flight commit and are answered,
    // then handlers finish what they can, then the last done marks commit.
    if (s.server) s.server->stop(std::chrono::seconds(5));
    if (s.metricsServer) s.metricsServer->stop(std::chrono::seconds(0));
    // Queries still running use the connector, portals and the server's io_context: they
    // finish before any of those stops (issue 9 review, finding 2).
    if (s.api) s.api->stopQueries();
    if (s.mediaEndpoint) s.mediaEndpoint->stop();  // its fetches use the homeserver client
    if (s.dispatcher) s.dispatcher->stop(std::chrono::seconds(10));
    // The connector may still report what its network said while closing.
    if (s.connectorStarted) {
        s.commandRegistry->stop();  // commands held for a power check finish first
        s.loginCommands->stop();  // logins in progress end; their steps in flight return
        s.idleClientReaper.cancel();
        s.remoteClientsImpl->stopAll();  // users' clients log off before their bridge stops
        s.gatewayJoins->stop();  // their answers go to the connector
        s.connector->stop();
        s.connectorStarted = false;
    }
    if (s.timers) s.timers->stop();
    if (s.portals) {
        s.portals->waitIdle(std::chrono::seconds(5));
        s.portals->stop();
    }
    // Unsent requests stay in the outbox table for the next start.
    if (s.intents) s.intents->stop();
    if (s.journal) s.journal->stop();
    s.api.reset();  // its answers post to the server's io_context: gone first
    s.webhookEndpoint.reset();
    s.server.reset();
    s.metricsServer.reset();
    s.metricsEndpoint.reset();
}

}  // namespace mxbridge
