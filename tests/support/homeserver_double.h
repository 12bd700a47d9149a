// HomeserverDouble: a test double for a Matrix homeserver, as an appservice sees one.
//
// A real HTTP server on 127.0.0.1 that checks EVERY request against the spec's OpenAPI data
// (SpecCatalog: method + path, path/query/header parameters, JSON body schema, access token
// where `security` demands it). A request that does not conform is answered like a server
// that does not understand it (404/405 M_UNRECOGNIZED, 400 M_NOT_JSON / M_BAD_JSON,
// 401 M_MISSING_TOKEN) and recorded in specViolations(), which a test asserts empty.
// Conforming requests are served from in-memory state with the behaviour (and errcodes) of
// the spec and of Synapse: appservice auth and identity assertion, registration, rooms,
// membership, power levels, messages, state, redactions, profiles, media, ping.
// Events that concern the appservice are pushed to it as transactions, one at a time, with
// back-off (FIELD-NOTES "Homeservers (Synapse)").
//
// It is not a homeserver: no federation, sync, encryption, event auth beyond power levels.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "spec_catalog.h"
#include "test_http_server.h"

namespace mxbridge::test {

class HomeserverLogic;

struct HomeserverConfig {
    std::string serverName = "example.org";
    std::string asToken = "as_token_for_tests";
    std::string hsToken = "hs_token_for_tests";
    /// Where transactions and pings go, e.g. "http://127.0.0.1:29318"; empty: M_URL_NOT_SET,
    /// and transactions wait until setAppserviceUrl().
    std::string appserviceUrl;
    std::string appserviceId = "mxbridge";
    std::string senderLocalpart = "bridgebot";
    /// The registration's exclusive user namespace (ECMAScript regex on the full user id).
    std::string userNamespaceRegex = "@_bridge_.*:example\\.org";
    /// Optional alias namespace: joining an unknown alias in it first asks the appservice
    /// (GET /_matrix/app/v1/rooms/{alias}), as a real homeserver does.
    std::string aliasNamespaceRegex;
    /// What GET /_matrix/client/versions advertises.
    std::vector<std::string> versions = {"v1.1", "v1.2", "v1.3", "v1.4",  "v1.5", "v1.6",
                                         "v1.7", "v1.8", "v1.9", "v1.10", "v1.11", "v1.12"};
    /// Behave like Synapse 1.67 toward the appservice: transactions to the unprefixed
    /// `/transactions/{n}` with only `?access_token=<hs_token>`, and no ping endpoint.
    bool legacyPaths = false;
    /// Serve media to authenticated clients only (spec v1.11 endpoints), as Synapse does
    /// with unauthenticated media frozen: the old /_matrix/media/v3/download answers 404.
    bool authenticatedMediaOnly = false;
    /// Transaction retry back-off: first delay, doubling up to the cap (Synapse: 2,4,8… s).
    std::chrono::milliseconds retryInitial{2000};
    std::chrono::milliseconds retryMax{64000};
    /// Timeout for calls to the appservice (transactions, ping, alias queries).
    std::chrono::milliseconds appserviceTimeout{5000};
    std::uint16_t port = 0;  ///< 0: ephemeral
};

/// One request the double received, after handling.
struct RecordedRequest {
    std::string method;
    std::string target;  ///< raw path and query
    std::string path;
    StringMap query;
    nlohmann::json body;      ///< parsed JSON body; null when none or not JSON
    std::string operationId;  ///< empty when the spec has no such operation
    std::string userId;       ///< the identity it acted as, if authenticated
    int status = 0;
    nlohmann::json response;  ///< JSON answer (null for media bytes)
};

/// One attempt to deliver a transaction to the appservice.
struct PushAttempt {
    std::string txnId;
    std::string target;  ///< path and query used
    nlohmann::json body;
    int status = 0;  ///< 0: no HTTP answer
    bool ok = false;
    std::string error;  ///< why it counts as failed
};

struct Profile {
    std::optional<std::string> displayname;
    std::optional<std::string> avatarUrl;
};

class HomeserverDouble {
public:
    /// Starts listening at once; the transaction pusher runs in the background.
    /// Loads SpecCatalog::shared() (throws when the spec data is absent).
    explicit HomeserverDouble(HomeserverConfig config = {});
    ~HomeserverDouble();
    HomeserverDouble(const HomeserverDouble&) = delete;
    HomeserverDouble& operator=(const HomeserverDouble&) = delete;

    /// "http://127.0.0.1:<port>": the homeserver URL to give the appservice.
    std::string url() const;
    std::uint16_t port() const;
    const HomeserverConfig& config() const { return config_; }
    std::string botUserId() const;  ///< @<sender_localpart>:<server_name>
    void setAppserviceUrl(const std::string& url);

    // --- Acting as the rest of Matrix -------------------------------------------------
    /// Registers a (non-appservice) user, e.g. "@alice:example.org"; no-op if known.
    void addUser(const std::string& userId, const Profile& profile = {});
    /// Creates a room as `creatorId` (registered if needed), returns its id. `createBody`
    /// is a createRoom request body (preset, name, invite, initial_state…).
    std::string createRoom(const std::string& creatorId, const nlohmann::json& createBody = {});
    /// `userId` joins `roomId` (as a client would, bypassing invite checks).
    void forceJoin(const std::string& roomId, const std::string& userId);
    /// A user outside the bridge sends an event; it is added to the room timeline and pushed
    /// to the appservice. Returns the event id.
    std::string sendAsUser(const std::string& roomId, const std::string& userId,
                           const nlohmann::json& content, const std::string& type = "m.room.message");
    /// Adds a complete event (event_id, origin_server_ts, unsigned filled in when missing)
    /// to its room's timeline (and state, if it has a state_key) and queues it for the AS.
    std::string injectEvent(nlohmann::json event);
    /// Queues a raw transaction body for the pusher as is (not validated).
    void pushTransaction(const nlohmann::json& body);

    // --- Inspecting ---------------------------------------------------------------------
    std::vector<nlohmann::json> timeline(const std::string& roomId) const;
    /// Current state event content, or nullopt.
    std::optional<nlohmann::json> stateContent(const std::string& roomId, const std::string& type,
                                               const std::string& stateKey = "") const;
    /// user id → membership ("join", "invite", "leave", "ban") for everyone ever in the room.
    std::map<std::string, std::string> members(const std::string& roomId) const;
    std::optional<std::string> roomForAlias(const std::string& alias) const;
    Profile profile(const std::string& userId) const;
    bool isRegistered(const std::string& userId) const;
    std::optional<nlohmann::json> presence(const std::string& userId) const;
    /// Users currently typing in the room.
    std::vector<std::string> typing(const std::string& roomId) const;
    /// Receipts sent: {"user_id", "receipt_type", "event_id", "room_id"}.
    std::vector<nlohmann::json> receipts() const;
    /// Uploaded media by mxc URI: bytes.
    std::optional<std::string> media(const std::string& mxcUri) const;
    /// A file as a Matrix user's client would have uploaded it; returns its mxc URI.
    std::string addMedia(const std::string& bytes, const std::string& contentType,
                         const std::string& fileName = {});

    std::vector<RecordedRequest> requests() const;
    /// Requests that did not conform to the spec, one sentence each; tests assert empty.
    std::vector<std::string> specViolations() const;
    /// Spec operations requested that this double does not implement (not violations).
    std::vector<std::string> unimplemented() const;
    std::vector<PushAttempt> pushAttempts() const;
    /// Transactions the appservice acknowledged, in order.
    std::vector<PushAttempt> deliveredTransactions() const;
    /// Events queued but not yet acknowledged.
    std::size_t pendingEvents() const;

    /// Polls `predicate` (every 5 ms) until true or `timeout`; returns its last value.
    bool waitFor(const std::function<bool()>& predicate,
                 std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;
    /// Waits until every queued event was delivered.
    bool waitForDelivery(std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;

    // --- Faults -------------------------------------------------------------------------
    /// Stops listening and resets open connections for `duration` (0: until comeBack()).
    void goDown(std::chrono::milliseconds duration = std::chrono::milliseconds(0));
    void comeBack();
    /// The next `n` client requests get 429 M_LIMIT_EXCEEDED with retry_after_ms.
    void rateLimitNext(int n, int retryAfterMs = 100);
    /// The next `n` client requests get `status` with M_UNKNOWN.
    void failNext(int n, int status = 500);
    /// Delay before answering each client request.
    void setLatency(std::chrono::milliseconds latency);
    /// Extra delay before answering requests to one spec operation, e.g. "createRoom" (0
    /// removes it); other requests are answered meanwhile.
    void setOperationLatency(const std::string& operationId, std::chrono::milliseconds latency);
    /// Delay between doing what a request to one spec operation asks (e.g. "sendMessage":
    /// the event exists and is pushed to the appservice) and answering it (0 removes it).
    void setAnswerDelay(const std::string& operationId, std::chrono::milliseconds delay);
    /// Next new transaction is numbered "1" again (Synapse on SQLite after a restart).
    void restartTxnIds();
    /// Pauses/resumes the transaction pusher.
    void pausePusher(bool paused);

private:
    friend class HomeserverLogic;
    struct State;
    HttpResponse handle(const HttpRequest& request);
    HttpResponse handleNow(const HttpRequest& request);  // handle() without the delays
    void pusherLoop();

    HomeserverConfig config_;
    std::unique_ptr<State> state_;
    std::unique_ptr<TestHttpServer> server_;
};

}  // namespace mxbridge::test
