// The durable outbox: every request the bridge makes to the homeserver, queued per room and
// sent in order, one in flight per queue, queues in parallel. Rows are written through the
// journal (with the hook's done mark when made inside a hook), survive restarts, and are
// retried: 429 waits retry_after_ms, 5xx and network errors back off exponentially with
// jitter. Permanent errors are logged, counted and reported through the failure hook.
// Before each request the outbox makes sure the acting user is registered and, for room
// requests, joined (the bot invites it when the room is not public).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "journal/journal.h"
#include "matrix/hs_client.h"
#include "mxbridge/ids.h"
#include "mxbridge/log.h"
#include "mxbridge/metrics.h"
#include "mxbridge/result.h"
#include "ops/bridge_health.h"
#include "store/database.h"

namespace mxbridge::detail {

struct OutboxOptions {
    size_t workers = 4;
    std::chrono::milliseconds backoffBase{250};
    std::chrono::milliseconds backoffCap{60000};
    // A 429 without retry_after_ms or Retry-After waits this long.
    std::chrono::milliseconds defaultRateLimitWait{1000};
    // Typing, receipts and presence are given up after this many failed attempts: a stale
    // typing notice is worse than none.
    uint32_t ephemeralAttempts = 3;
    // A request still being retried this long after it was queued makes /health answer 503
    // ("outbox stuck") until it is sent or dropped.
    std::chrono::milliseconds stuckAfter{std::chrono::minutes(5)};
};

// An event the outbox sent, for the event mapping store (edits, replies, redactions later).
struct SentEvent {
    RoomId room;
    EventId event;
    UserId actor;
    std::string kind;          // "send" (messages, reactions), "redact", "state"
    RemoteRoomId remoteRoom;   // as given by the caller; empty when not given
    RemoteMessageId remoteId;  // empty when the caller gave none
};

// A request the homeserver refused for good (403, 404, 400…); the row is dropped.
struct OutboxFailure {
    RoomId room;               // empty for requests outside a room (profile, presence)
    UserId actor;
    std::string kind;
    int status = 0;
    std::string errcode;
    std::string reason;
    RemoteMessageId remoteId;  // of the message that was not sent, when known
    EventId target;            // the event a refused redaction was to remove
};

// One request, as callers hand it in. `queueKey` orders it (usually the room id).
struct OutboxRequest {
    std::string queueKey;
    UserId actor;
    std::string kind;
    nlohmann::json payload = nlohmann::json::object();
    // Runs once the request is queued (committed, or staged and then committed with a hook).
    std::function<void()> onQueued;
};

// For requests whose answer the caller needs (createRoom, media): the result JSON
// ({"room_id": …}, {"content_uri": …}) or, for downloads, a JSON string holding the bytes.
using OutboxDone = std::function<void(Result<nlohmann::json>)>;

class Outbox {
public:
    using SentHook = std::function<void(const SentEvent&)>;
    using FailureHook = std::function<void(const OutboxFailure&)>;

    // `journal` must be running before anything is queued and stopped only after stop().
    // Pending rows are loaded here; nothing is sent before start().
    Outbox(const Database& database, Journal& journal, HomeserverClient& homeserver,
           Metrics& metrics, UserId botUser, OutboxOptions options = {}, SentHook onSent = {},
           FailureHook onFailure = {});
    ~Outbox();
    Outbox(const Outbox&) = delete;
    Outbox& operator=(const Outbox&) = delete;

    void start();
    // Finishes the requests in flight and stops. Unsent rows stay for the next start;
    // in-memory requests are answered with a transient "outbox_stopped" error.
    void stop();

    // Durable: a row in the outbox table, through the journal (staged with the hook's done
    // mark when called inside a hook). Never blocks on the homeserver.
    void enqueue(OutboxRequest request);
    // In memory only, still in order within its queue: ephemeral requests (given up after
    // OutboxOptions::ephemeralAttempts) and calls with an answer (`done`, retried while the
    // process runs; after a restart the caller asks again). `bytes`: an upload's content.
    void enqueueTransient(OutboxRequest request, bool ephemeral, OutboxDone done = {},
                          std::shared_ptr<const std::string> bytes = nullptr);

    // Set from GET /versions (v1.11+): downloads use /_matrix/client/v1/media.
    void setAuthenticatedMedia(bool enabled) { authenticatedMedia_ = enabled; }

    // The profile value last requested for `user` (displayname / avatar_url), for "only
    // when changed". Survives restarts (the last one the homeserver accepted).
    std::optional<std::string> profileValue(const UserId& user, const std::string& field);
    void noteProfileRequested(const UserId& user, const std::string& field, const std::string& value);

    // Where requests stuck past OutboxOptions::stuckAfter are reported. Call before start().
    void reportTo(BridgeHealth& health) { health_ = &health; }

    const UserId& botUser() const { return bot_; }
    // Requests queued or in flight (including those being committed).
    size_t pending() const;
    // For tests and shutdown: waits until nothing is queued or in flight.
    bool waitIdle(std::chrono::milliseconds timeout);
    // Whether a request of `queueKey`'s queue is at the homeserver now.
    bool inFlight(const std::string& queueKey) const;
    // Waits until the request of `queueKey`'s queue at the homeserver now (if any) is
    // answered and its SentHook has run; true if none was or it was answered in time.
    // The homeserver pushes the echo of an event it created before the sender hears its
    // answer, so an echo can be read before its event is mapped.
    bool waitInFlight(const std::string& queueKey, std::chrono::milliseconds timeout);

private:
    struct Op {
        int64_t id = 0;  // row id; 0 for in-memory requests
        std::string queueKey;
        UserId actor;
        std::string kind;
        nlohmann::json payload;
        int64_t createdMs = 0;
        uint32_t attempts = 0;
        std::string txnId;
        bool ephemeral = false;
        bool recheckedMembership = false;
        bool stuck = false;  // counted in stuckOps_
        OutboxDone done;
        std::shared_ptr<const std::string> bytes;
    };
    struct Queue {
        std::deque<std::shared_ptr<Op>> ops;
        bool busy = false;
        int64_t dueMs = 0;  // when its head may be tried
    };
    struct Outcome {
        enum class Kind { Done, Retry, Failed } kind = Kind::Done;
        std::chrono::milliseconds delay{0};
        nlohmann::json result;
        HsResponse failure;
        std::string failedStep;  // which request failed, for the log
    };
    struct UserState {
        bool registered = false;
        std::map<std::string, std::string> profile;       // field -> last requested
        std::map<std::string, std::string> membership;    // room -> join/invite/leave/ban
    };

    void load();
    void workerLoop();
    void push(std::shared_ptr<Op> op);
    void schedule(const std::string& key, Queue& queue, int64_t dueMs);
    void finish(const std::shared_ptr<Op>& op, Outcome outcome);
    // Health bookkeeping for a retried request, and for one that leaves its queue.
    void noteRetried(Op& op, const Outcome& outcome);
    void noteLeft(Op& op);

    Outcome execute(Op& op);
    Outcome perform(Op& op);
    HsResponse call(const std::string& step, const std::string& method, const std::string& path,
                    const std::optional<nlohmann::json>& body, const std::string& asUser,
                    const std::map<std::string, std::string>& query = {});
    Outcome classify(const HsResponse& response, const std::string& step, uint32_t attempts);
    // Registers `user` unless known; nullopt on success, else the outcome to return.
    std::optional<Outcome> ensureRegistered(const UserId& user, uint32_t attempts);
    std::optional<Outcome> ensureJoined(const UserId& user, const std::string& room, uint32_t attempts);
    bool needsMembership(const Op& op) const;
    bool needsPower(const Op& op) const;
    bool botHasPowerFor(const Op& op, const std::string& room);
    Outcome actAsBot(Op& op, const std::string& room, const Outcome& refused);
    // One of our users (other than `except`) joined to `room`, as far as the outbox knows.
    std::optional<UserId> joinedMember(const std::string& room, const UserId& except);

    bool isRegistered(const UserId& user);
    void markRegistered(const UserId& user);
    std::string membership(const UserId& user, const std::string& room);
    void setMembership(const UserId& user, const std::string& room, const std::string& membership);
    void persistProfile(const UserId& user, const std::string& field, const std::string& value);
    void deleteRow(int64_t id);

    const Database& database_;
    Journal& journal_;
    HomeserverClient& hs_;
    Metrics& metrics_;
    UserId bot_;
    OutboxOptions options_;
    SentHook onSent_;
    FailureHook onFailure_;
    Logger log_{"outbox"};
    std::atomic<bool> authenticatedMedia_{true};

    Histogram& requestSeconds_;
    Gauge& queued_;
    Counter& permanentFailures_;

    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable idle_;
    std::unordered_map<std::string, Queue> queues_;
    std::set<std::pair<int64_t, std::string>> due_;  // (dueMs, queue key) of idle, non-empty queues
    size_t pendingOps_ = 0;
    size_t committing_ = 0;  // enqueued outside hooks, not yet committed
    size_t stuckOps_ = 0;    // requests retried past options_.stuckAfter, still queued
    BridgeHealth* health_ = nullptr;
    bool stopping_ = false;
    bool started_ = false;
    std::vector<std::thread> workers_;
    uint64_t transientCounter_ = 0;
    std::string transientPrefix_;

    std::mutex usersMutex_;
    std::unordered_map<std::string, UserState> users_;
};

}  // namespace mxbridge::detail
