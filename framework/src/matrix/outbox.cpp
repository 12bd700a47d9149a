#include "matrix/outbox.h"

#include "matrix/media_download.h"
#include "ops/room_power.h"
#include "util/thread_name.h"

#include <algorithm>
#include <random>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include "journal/hook_stage.h"
#include "mxbridge/backoff.h"

namespace mxbridge::detail {

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

int64_t nowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// Monotonic clock for scheduling, so a wall-clock jump neither stalls nor floods the sender.
int64_t monoMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch()).count();
}

std::string rowTxnId(int64_t createdMs, int64_t id) {
    return "mxb" + std::to_string(createdMs) + "-" + std::to_string(id);
}

std::string str(const json& payload, const char* key) {
    auto it = payload.find(key);
    return it != payload.end() && it->is_string() ? it->get<std::string>() : std::string();
}

const std::string kClient = "/_matrix/client/v3";

// Synapse answers an invite of a member, or a join of one, with 403 "... is already in the
// room"; the request's goal is met.
bool alreadyInRoom(const HsResponse& r) {
    if (r.status != 403) return false;
    std::string e = r.error();
    return e.find("already in the room") != std::string::npos ||
           e.find("already joined") != std::string::npos;
}

}  // namespace

Outbox::Outbox(const Database& database, Journal& journal, HomeserverClient& homeserver,
               Metrics& metrics, UserId botUser, OutboxOptions options, SentHook onSent,
               FailureHook onFailure)
    : database_(database),
      journal_(journal),
      hs_(homeserver),
      metrics_(metrics),
      bot_(std::move(botUser)),
      options_(options),
      onSent_(std::move(onSent)),
      onFailure_(std::move(onFailure)),
      requestSeconds_(metrics.histogram("mxbridge_homeserver_request_seconds",
                                        "Time for the homeserver to answer a request")),
      queued_(metrics.gauge("mxbridge_outbox_queued", "Requests queued for the homeserver")),
      permanentFailures_(metrics.counter("mxbridge_outbox_failures_total",
                                         "Requests the homeserver refused for good (dropped)")) {
    std::random_device rd;
    transientPrefix_ = "mxbm" + std::to_string(nowMs()) + "." + std::to_string(rd() % 100000) + "-";
    load();
}

Outbox::~Outbox() { stop(); }

void Outbox::load() {
    // Its own read-only connection with the busy timeout set first: the journal's writer may
    // hold the file at this moment (Database::connect() sets journal_mode before the timeout).
    auto db = std::make_unique<SQLite::Database>(database_.path(), SQLite::OPEN_READONLY);
    db->setBusyTimeout(10000);
    SQLite::Statement rows(*db, "SELECT id, queue_key, actor, kind, payload, created_ms, attempts "
                                "FROM outbox ORDER BY id");
    size_t count = 0;
    while (rows.executeStep()) {
        auto op = std::make_shared<Op>();
        op->id = rows.getColumn(0).getInt64();
        op->queueKey = rows.getColumn(1).getString();
        op->actor = UserId(rows.getColumn(2).getString());
        op->kind = rows.getColumn(3).getString();
        op->payload = json::parse(rows.getColumn(4).getString(), nullptr, false);
        if (op->payload.is_discarded()) op->payload = json::object();
        op->createdMs = rows.getColumn(5).getInt64();
        op->attempts = static_cast<uint32_t>(rows.getColumn(6).getInt());
        op->txnId = rowTxnId(op->createdMs, op->id);
        push(std::move(op));
        ++count;
    }
    SQLite::Statement users(*db, "SELECT user_id, registered, displayname, avatar_url FROM intent_state");
    std::lock_guard lock(usersMutex_);
    while (users.executeStep()) {
        UserState& u = users_[users.getColumn(0).getString()];
        u.registered = users.getColumn(1).getInt() != 0;
        if (!users.getColumn(2).isNull()) u.profile["displayname"] = users.getColumn(2).getString();
        if (!users.getColumn(3).isNull()) u.profile["avatar_url"] = users.getColumn(3).getString();
    }
    SQLite::Statement members(*db, "SELECT user_id, room_id, membership FROM intent_membership");
    while (members.executeStep()) {
        users_[members.getColumn(0).getString()].membership[members.getColumn(1).getString()] =
            members.getColumn(2).getString();
    }
    if (count > 0) log_.info("resuming requests left from the last run", {{"count", count}});
}

void Outbox::start() {
    std::lock_guard lock(mutex_);
    if (started_) return;
    started_ = true;
    stopping_ = false;
    for (size_t i = 0; i < std::max<size_t>(1, options_.workers); ++i)
        workers_.emplace_back([this] {
            nameThisThread("mxb-outbox");
            workerLoop();
        });
}

void Outbox::stop() {
    {
        std::lock_guard lock(mutex_);
        if (!started_) return;
        stopping_ = true;
        started_ = false;
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
    // In-memory requests cannot outlive the process; tell their callers.
    std::vector<std::shared_ptr<Op>> dropped;
    {
        std::lock_guard lock(mutex_);
        for (auto& [key, queue] : queues_) {
            for (auto it = queue.ops.begin(); it != queue.ops.end();) {
                if ((*it)->id == 0) {
                    dropped.push_back(*it);
                    it = queue.ops.erase(it);
                    --pendingOps_;
                } else {
                    ++it;
                }
            }
        }
        queued_.set(static_cast<int64_t>(pendingOps_));
    }
    for (auto& op : dropped)
        if (op->done) op->done(Error::transient("outbox_stopped", "the bridge is shutting down"));
    idle_.notify_all();
}

void Outbox::enqueue(OutboxRequest request) {
    auto op = std::make_shared<Op>();
    op->queueKey = std::move(request.queueKey);
    op->actor = std::move(request.actor);
    op->kind = std::move(request.kind);
    op->payload = std::move(request.payload);
    op->createdMs = nowMs();
    std::string text = op->payload.dump();
    StagedOp staged;
    staged.apply = [op, text = std::move(text)](SQLite::Database& db) {
        SQLite::Statement insert(db, "INSERT INTO outbox(queue_key, actor, kind, payload, created_ms) "
                                     "VALUES (?, ?, ?, ?, ?)");
        insert.bind(1, op->queueKey);
        insert.bind(2, op->actor.str());
        insert.bind(3, op->kind);
        insert.bind(4, text);
        insert.bind(5, static_cast<int64_t>(op->createdMs));
        insert.exec();
        op->id = db.getLastInsertRowid();
        op->txnId = rowTxnId(op->createdMs, op->id);
    };
    // Outside a hook the row is sure to be committed soon: count it as pending already, so
    // waitIdle() does not return before it is even queued. (A hook's writes may be discarded.)
    const bool counted = currentHookStage() == nullptr;
    if (counted) {
        std::lock_guard lock(mutex_);
        ++committing_;
    }
    staged.afterCommit = [this, op, counted, onQueued = std::move(request.onQueued)] {
        if (onQueued) onQueued();
        push(op);
        if (counted) {
            std::lock_guard lock(mutex_);
            --committing_;
        }
    };
    stageOrRun(journal_, std::move(staged), false);
}

void Outbox::enqueueTransient(OutboxRequest request, bool ephemeral, OutboxDone done,
                              std::shared_ptr<const std::string> bytes) {
    auto op = std::make_shared<Op>();
    op->queueKey = std::move(request.queueKey);
    op->actor = std::move(request.actor);
    op->kind = std::move(request.kind);
    op->payload = std::move(request.payload);
    op->createdMs = nowMs();
    op->ephemeral = ephemeral;
    op->done = std::move(done);
    op->bytes = std::move(bytes);
    {
        std::lock_guard lock(mutex_);
        op->txnId = transientPrefix_ + std::to_string(++transientCounter_);
    }
    if (request.onQueued) request.onQueued();
    push(std::move(op));
}

void Outbox::push(std::shared_ptr<Op> op) {
    {
        std::lock_guard lock(mutex_);
        const std::string key = op->queueKey;
        Queue& queue = queues_[key];
        queue.ops.push_back(std::move(op));
        ++pendingOps_;
        queued_.set(static_cast<int64_t>(pendingOps_));
        if (queue.ops.size() == 1 && !queue.busy) schedule(key, queue, std::max(queue.dueMs, monoMs()));
    }
    wake_.notify_one();
}

void Outbox::schedule(const std::string& key, Queue& queue, int64_t dueMs) {
    queue.dueMs = dueMs;
    due_.insert({dueMs, key});
}

void Outbox::workerLoop() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        if (due_.empty()) {
            wake_.wait(lock);
            continue;
        }
        auto first = due_.begin();
        int64_t now = monoMs();
        if (first->first > now) {
            wake_.wait_for(lock, std::chrono::milliseconds(first->first - now));
            continue;
        }
        std::string key = first->second;
        due_.erase(first);
        auto it = queues_.find(key);
        if (it == queues_.end() || it->second.busy || it->second.ops.empty()) continue;
        it->second.busy = true;
        std::shared_ptr<Op> op = it->second.ops.front();
        lock.unlock();
        Outcome outcome;
        try {
            outcome = execute(*op);
        } catch (const std::exception& e) {
            // A broken invariant in one request must not stall its room forever.
            outcome.kind = Outcome::Kind::Failed;
            outcome.failure.networkError = std::string("internal error: ") + e.what();
            outcome.failedStep = op->kind;
        }
        finish(op, std::move(outcome));
        lock.lock();
    }
}

void Outbox::finish(const std::shared_ptr<Op>& op, Outcome outcome) {
    const RoomId room(str(op->payload, "room_id"));
    if (outcome.kind == Outcome::Kind::Retry) {
        ++op->attempts;
        if (op->ephemeral && op->attempts >= options_.ephemeralAttempts) {
            log_.debug("ephemeral request given up", {{"room_id", room.str()}, {"actor", op->actor.str()},
                                                      {"kind", op->kind}, {"reason", outcome.failure.error()}});
            outcome.kind = Outcome::Kind::Failed;
        } else {
            log_.debug("request will be retried",
                       {{"room_id", room.str()}, {"actor", op->actor.str()}, {"kind", op->kind},
                        {"attempts", op->attempts}, {"delay_ms", outcome.delay.count()},
                        {"reason", outcome.failure.error()}});
            noteRetried(*op, outcome);
            {
                std::lock_guard lock(mutex_);
                Queue& queue = queues_[op->queueKey];
                queue.busy = false;
                if (!stopping_) schedule(op->queueKey, queue, monoMs() + outcome.delay.count());
            }
            wake_.notify_one();
            idle_.notify_all();  // waitInFlight: this request is no longer at the homeserver
            return;
        }
    }
    if (op->id != 0) deleteRow(op->id);
    noteLeft(*op);
    if (outcome.kind == Outcome::Kind::Done) {
        if (!outcome.result.is_null() && outcome.result.is_object() && outcome.result.contains("event_id") &&
            onSent_ && (op->kind == "send" || op->kind == "redact" || op->kind == "state")) {
            SentEvent sent{room, EventId(outcome.result["event_id"].get<std::string>()), op->actor, op->kind,
                           RemoteRoomId(str(op->payload, "remote_room")),
                           RemoteMessageId(str(op->payload, "remote_id"))};
            try {
                onSent_(sent);
            } catch (const std::exception& e) {
                log_.error("the sent-event hook threw", {{"event_id", sent.event.str()}, {"error", e.what()}});
            }
        }
        if (op->done) op->done(std::move(outcome.result));
    } else if (!op->ephemeral) {
        const HsResponse& r = outcome.failure;
        OutboxFailure failure{room, op->actor, op->kind, r.status, r.errcode(), r.error(),
                              RemoteMessageId(str(op->payload, "remote_id")),
                              op->kind == "redact" ? EventId(str(op->payload, "event_id")) : EventId()};
        permanentFailures_.inc();
        log_.warn("the homeserver refused a request; it is dropped",
                  {{"room_id", room.str()}, {"actor", op->actor.str()}, {"kind", op->kind},
                   {"step", outcome.failedStep}, {"status", r.status}, {"errcode", failure.errcode},
                   {"reason", failure.reason}});
        if (onFailure_) {
            try {
                onFailure_(failure);
            } catch (const std::exception& e) {
                log_.error("the failure hook threw", {{"error", e.what()}});
            }
        }
        if (op->done)
            op->done(Error::permanent(failure.errcode.empty() ? "homeserver_refused" : failure.errcode,
                                      failure.reason));
    } else if (op->done) {
        op->done(Error::transient("gave_up", outcome.failure.error()));
    }
    {
        std::lock_guard lock(mutex_);
        auto it = queues_.find(op->queueKey);
        Queue& queue = it->second;
        queue.ops.pop_front();
        queue.busy = false;
        --pendingOps_;
        queued_.set(static_cast<int64_t>(pendingOps_));
        if (!queue.ops.empty()) {
            if (!stopping_) schedule(op->queueKey, queue, monoMs());
        } else {
            queues_.erase(it);
        }
    }
    wake_.notify_one();
    idle_.notify_all();
}

void Outbox::noteRetried(Op& op, const Outcome& outcome) {
    if (!health_) return;
    const int64_t waitedMs = nowMs() - op.createdMs;
    if (waitedMs < options_.stuckAfter.count()) return;
    {
        std::lock_guard lock(mutex_);
        if (!op.stuck) {
            op.stuck = true;
            ++stuckOps_;
        }
    }
    health_->failing(HealthPart::Outbox, "outbox stuck",
                     "a " + op.kind + " request in " + op.queueKey + " has waited " +
                         std::to_string(waitedMs / 1000) + " s: " + outcome.failure.error());
}

void Outbox::noteLeft(Op& op) {
    if (!op.stuck || !health_) return;
    bool none;
    {
        std::lock_guard lock(mutex_);
        op.stuck = false;
        none = --stuckOps_ == 0;
    }
    if (none) health_->recovered(HealthPart::Outbox);
}

size_t Outbox::pending() const {
    std::lock_guard lock(mutex_);
    return pendingOps_ + committing_;
}

bool Outbox::waitIdle(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return idle_.wait_for(lock, timeout, [&] { return pendingOps_ == 0 && committing_ == 0; });
}

bool Outbox::inFlight(const std::string& queueKey) const {
    std::lock_guard lock(mutex_);
    auto it = queues_.find(queueKey);
    return it != queues_.end() && it->second.busy;
}

bool Outbox::waitInFlight(const std::string& queueKey, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    auto it = queues_.find(queueKey);
    if (it == queues_.end() || !it->second.busy || it->second.ops.empty()) return true;
    const std::shared_ptr<Op> head = it->second.ops.front();
    // finish() notifies idle_ whenever a request leaves the homeserver, answered or to retry.
    return idle_.wait_for(lock, timeout, [&] {
        auto q = queues_.find(queueKey);
        return q == queues_.end() || !q->second.busy || q->second.ops.empty() || q->second.ops.front() != head;
    });
}

// --- Executing one request ---------------------------------------------------------------------

bool Outbox::needsMembership(const Op& op) const {
    static const std::set<std::string> kinds = {"send", "redact", "state", "power_levels", "invite",
                                                "kick", "ban", "typing", "receipt"};
    return kinds.count(op.kind) > 0;
}

HsResponse Outbox::call(const std::string& step, const std::string& method, const std::string& path,
                        const std::optional<json>& body, const std::string& asUser,
                        const std::map<std::string, std::string>& query) {
    auto started = Clock::now();
    HsResponse r = hs_.call(method, path, body, asUser, query);
    requestSeconds_.observe(std::chrono::duration<double>(Clock::now() - started).count());
    if (!r.ok()) {
        std::string code = r.status == 0 ? "network" : r.errcode();
        if (code.empty()) code = "http_" + std::to_string(r.status);
        metrics_.counter("mxbridge_homeserver_errors_total", "Homeserver requests that failed, by errcode",
                         {{"errcode", code}})
            .inc();
        log_.trace("homeserver request failed", {{"step", step}, {"status", r.status}, {"errcode", code}});
    }
    return r;
}

Outbox::Outcome Outbox::classify(const HsResponse& r, const std::string& step, uint32_t attempts) {
    Outcome out;
    out.failure = r;
    out.failedStep = step;
    if (r.status == 429) {
        out.kind = Outcome::Kind::Retry;
        int64_t wait = options_.defaultRateLimitWait.count();
        if (r.body.is_object() && r.body.contains("retry_after_ms") && r.body["retry_after_ms"].is_number())
            wait = r.body["retry_after_ms"].get<int64_t>();
        else if (r.retryAfterMs)
            wait = *r.retryAfterMs;
        out.delay = std::chrono::milliseconds(std::max<int64_t>(0, wait));
        return out;
    }
    if (r.status == 0 || r.status >= 500 || r.status == 408) {
        out.kind = Outcome::Kind::Retry;
        // Exponential back-off with jitter in [d/2, d], so rooms that failed together do not
        // come back together.
        out.delay = Backoff::delayAfter({.initial = options_.backoffBase, .max = options_.backoffCap, .jitter = 0.5},
                                        attempts);
        return out;
    }
    out.kind = Outcome::Kind::Failed;
    return out;
}

std::optional<Outbox::Outcome> Outbox::ensureRegistered(const UserId& user, uint32_t attempts) {
    if (user == bot_ || isRegistered(user)) return std::nullopt;
    HsResponse r = call("register", "POST", kClient + "/register",
                        json{{"type", "m.login.application_service"},
                             {"username", std::string(localpartOf(user.str()))},
                             {"inhibit_login", true}},
                        {});
    if (r.ok() || r.errcode() == "M_USER_IN_USE") {
        markRegistered(user);
        return std::nullopt;
    }
    return classify(r, "register", attempts);
}

std::optional<Outbox::Outcome> Outbox::ensureJoined(const UserId& user, const std::string& room,
                                                    uint32_t attempts) {
    const std::string path = kClient + "/join/" + urlEncode(room);
    HsResponse r = call("join", "POST", path, json::object(), user.str());
    if (r.ok() || alreadyInRoom(r)) {
        setMembership(user, r.body.is_object() ? r.body.value("room_id", room) : room, "join");
        return std::nullopt;
    }
    if (r.status != 403) return classify(r, "join", attempts);
    UserId inviter = bot_;
    if (user == bot_) {
        // A private chat made by a ghost has no bot in it until the bot must act there (a
        // notice, inviting another ghost): one of our users in the room invites it.
        std::optional<UserId> member = joinedMember(room, bot_);
        if (!member) return classify(r, "join", attempts);
        inviter = *member;
    } else if (membership(bot_, room) != "join") {
        // Not public and not invited: the bot (joined first if needed) invites the ghost.
        if (auto failed = ensureJoined(bot_, room, attempts)) return failed;
    }
    HsResponse invite = call("invite", "POST", kClient + "/rooms/" + urlEncode(room) + "/invite",
                             json{{"user_id", user.str()}}, inviter.str());
    if (!invite.ok() && !alreadyInRoom(invite))
        return classify(invite, inviter == bot_ ? "invite by the bot" : "invite of the bot", attempts);
    r = call("join", "POST", path, json::object(), user.str());
    if (r.ok() || alreadyInRoom(r)) {
        setMembership(user, room, "join");
        return std::nullopt;
    }
    return classify(r, "join after invite", attempts);
}

Outbox::Outcome Outbox::execute(Op& op) {
    if (auto failed = ensureRegistered(op.actor, op.attempts)) return *failed;
    const std::string room = str(op.payload, "room_id");
    bool freshlyEnsured = false;
    if (needsMembership(op) && !room.empty() && membership(op.actor, room) != "join") {
        if (auto failed = ensureJoined(op.actor, room, op.attempts)) return *failed;
        freshlyEnsured = true;
    }
    Outcome out = perform(op);
    // A 403 on what we believed was set up (a ghost kicked meanwhile, a homeserver that lost
    // the registration): forget what we knew and go through register and join once more.
    if (out.kind == Outcome::Kind::Failed && out.failure.status == 403 && !freshlyEnsured &&
        !op.recheckedMembership && op.actor != bot_ && (needsMembership(op) || op.kind != "join")) {
        op.recheckedMembership = true;
        {
            std::lock_guard lock(usersMutex_);
            UserState& u = users_[op.actor.str()];
            u.registered = false;
            if (!room.empty()) u.membership.erase(room);
        }
        out.kind = Outcome::Kind::Retry;
        out.delay = std::chrono::milliseconds(0);
        --op.attempts;  // finish() counts it; this retry is not a failure
    }
    if (out.kind == Outcome::Kind::Failed && out.failure.status == 403 && op.actor != bot_ &&
        needsPower(op) && botHasPowerFor(op, room))
        return actAsBot(op, room, out);
    return out;
}

// Whether the bot's level in `room` is enough for `op`, read as the refused ghost (a member,
// unlike the bot perhaps). A room not made by the bridge, where the bot has no power, keeps
// the ghost's refusal and the bot stays out of it.
bool Outbox::botHasPowerFor(const Op& op, const std::string& room) {
    HsResponse read = call("power_levels read", "GET",
                           kClient + "/rooms/" + urlEncode(room) + "/state/m.room.power_levels/",
                           std::nullopt, op.actor.str());
    if (!read.ok() || !read.body.is_object()) return false;
    const json& levels = read.body;
    int64_t needed = 0;
    if (op.kind == "state") needed = stateEventPowerLevel(levels, str(op.payload, "type"));
    else if (op.kind == "power_levels") needed = stateEventPowerLevel(levels, "m.room.power_levels");
    else needed = levelOf(levels, op.kind.c_str(), 50);  // kick, ban, redact
    return userPowerLevel(levels, bot_) >= needed;
}

bool Outbox::needsPower(const Op& op) const {
    static const std::set<std::string> kinds = {"state", "power_levels", "kick", "ban", "redact"};
    return kinds.count(op.kind) > 0;
}

// A ghost refused for lack of power (the ghost is in the room: membership was ensured or
// re-checked before this), e.g. Synapse's 403 "user_level (0) < send_level (50)" or "You
// cannot kick user …": the bot, which has the power in the rooms the bridge makes, does it,
// so a mirrored topic or kick is not lost. The action then shows the bot as its sender.
Outbox::Outcome Outbox::actAsBot(Op& op, const std::string& room, const Outcome& refused) {
    log_.info("a ghost lacks the power for a mirrored action; the bot does it instead",
              {{"room_id", room}, {"ghost", op.actor.str()}, {"kind", op.kind},
               {"reason", refused.failure.error()}});
    metrics_.counter("mxbridge_outbox_acted_by_bot_total",
                     "Requests of ghosts lacking the power, done by the bot instead", {{"kind", op.kind}})
        .inc();
    op.actor = bot_;  // also for retries of this request, until a restart reloads the row
    if (membership(bot_, room) != "join") {
        if (auto failed = ensureJoined(bot_, room, op.attempts)) return *failed;
    }
    return perform(op);
}

std::optional<UserId> Outbox::joinedMember(const std::string& room, const UserId& except) {
    std::lock_guard lock(usersMutex_);
    for (const auto& [user, state] : users_) {
        auto m = state.membership.find(room);
        if (user != except.str() && m != state.membership.end() && m->second == "join") return UserId(user);
    }
    return std::nullopt;
}

Outbox::Outcome Outbox::perform(Op& op) {
    const json& p = op.payload;
    const std::string room = str(p, "room_id");
    const std::string roomPath = kClient + "/rooms/" + urlEncode(room);
    const std::string actor = op.actor.str();
    auto done = [](json result = json::object()) {
        Outcome out;
        out.result = std::move(result);
        return out;
    };
    auto simple = [&](const std::string& method, const std::string& path, const json& body,
                      const std::map<std::string, std::string>& query = {}) {
        HsResponse r = call(op.kind, method, path, body, actor, query);
        return r.ok() ? done(r.body) : classify(r, op.kind, op.attempts);
    };

    if (op.kind == "send") {
        std::map<std::string, std::string> query;
        if (p.contains("ts")) query["ts"] = std::to_string(p["ts"].get<int64_t>());
        return simple("PUT", roomPath + "/send/" + urlEncode(str(p, "type")) + "/" + urlEncode(op.txnId),
                      p.value("content", json::object()), query);
    }
    if (op.kind == "redact") {
        json body = json::object();
        if (!str(p, "reason").empty()) body["reason"] = p["reason"];
        return simple("PUT", roomPath + "/redact/" + urlEncode(str(p, "event_id")) + "/" + urlEncode(op.txnId), body);
    }
    if (op.kind == "state") {
        return simple("PUT", roomPath + "/state/" + urlEncode(str(p, "type")) + "/" + urlEncode(str(p, "state_key")),
                      p.value("content", json::object()));
    }
    if (op.kind == "join") {
        if (auto failed = ensureJoined(op.actor, room, op.attempts)) return *failed;
        return done();
    }
    if (op.kind == "leave") {
        json body = json::object();
        if (!str(p, "reason").empty()) body["reason"] = p["reason"];
        HsResponse r = call("leave", "POST", roomPath + "/leave", body, actor);
        if (r.ok() || r.status == 403) {  // 403: not in the room, which is what was wanted
            setMembership(op.actor, room, "leave");
            return done();
        }
        return classify(r, "leave", op.attempts);
    }
    if (op.kind == "invite" || op.kind == "kick" || op.kind == "ban") {
        json body{{"user_id", str(p, "user_id")}};
        if (!str(p, "reason").empty()) body["reason"] = p["reason"];
        HsResponse r = call(op.kind, "POST", roomPath + "/" + op.kind, body, actor);
        if (r.ok() || (op.kind == "invite" && alreadyInRoom(r))) {
            if (op.kind != "invite") setMembership(UserId(str(p, "user_id")), room, op.kind == "ban" ? "ban" : "leave");
            return done();
        }
        return classify(r, op.kind, op.attempts);
    }
    if (op.kind == "power_levels") {
        // Read-modify-write at send time, so levels set by others meanwhile are kept.
        HsResponse current = call("power_levels read", "GET", roomPath + "/state/m.room.power_levels/", std::nullopt, actor);
        if (!current.ok()) return classify(current, "power_levels read", op.attempts);
        json content = current.body.is_object() ? current.body : json::object();
        if (!content.contains("users") || !content["users"].is_object()) content["users"] = json::object();
        const json levels = p.value("users", json::object());
        for (const auto& [user, level] : levels.items()) content["users"][user] = level;
        return simple("PUT", roomPath + "/state/m.room.power_levels/", content);
    }
    if (op.kind == "alias") {
        const std::string alias = str(p, "alias");
        const std::string path = kClient + "/directory/room/" + urlEncode(alias);
        HsResponse r = call("alias", "PUT", path, json{{"room_id", room}}, actor);
        if (r.ok()) return done();
        if (r.status == 409) {  // already there: fine if it already points at this room
            HsResponse existing = call("alias read", "GET", path, std::nullopt, actor);
            if (existing.ok() && existing.body.value("room_id", "") == room) return done();
        }
        return classify(r, "alias", op.attempts);
    }
    if (op.kind == "directory") {
        return simple("PUT", kClient + "/directory/list/room/" + urlEncode(room),
                      json{{"visibility", p.value("visible", false) ? "public" : "private"}});
    }
    if (op.kind == "displayname" || op.kind == "avatar_url") {
        const std::string value = str(p, "value");
        HsResponse r = call(op.kind, "PUT", kClient + "/profile/" + urlEncode(actor) + "/" + op.kind,
                            json{{op.kind, value}}, actor);
        if (!r.ok()) return classify(r, op.kind, op.attempts);
        persistProfile(op.actor, op.kind, value);
        return done();
    }
    if (op.kind == "typing") {
        json body{{"typing", p.value("typing", false)}};
        if (p.value("typing", false)) body["timeout"] = p.value("timeout", 30000);
        return simple("PUT", roomPath + "/typing/" + urlEncode(actor), body);
    }
    if (op.kind == "receipt") {
        return simple("POST", roomPath + "/receipt/m.read/" + urlEncode(str(p, "event_id")), json::object());
    }
    if (op.kind == "presence") {
        json body{{"presence", str(p, "presence")}};
        if (!str(p, "status_msg").empty()) body["status_msg"] = p["status_msg"];
        return simple("PUT", kClient + "/presence/" + urlEncode(actor) + "/status", body);
    }
    if (op.kind == "create_room") {
        const json body = p.value("body", json::object());
        HsResponse r = call("create_room", "POST", kClient + "/createRoom", body, actor);
        std::string created = r.ok() ? r.body.value("room_id", "") : std::string();
        if (!r.ok() && r.errcode() == "M_ROOM_IN_USE" && body.contains("room_alias_name")) {
            // The alias is in the bridge's exclusive namespace, so only this bridge made it:
            // in an earlier attempt whose answer was lost (a crash, a timeout). That room is
            // the one asked for; creating another would collide on every retry.
            const std::string& botId = bot_.str();
            const std::string alias = "#" + body["room_alias_name"].get<std::string>() +
                                      botId.substr(botId.find(':'));
            HsResponse existing = call("create_room alias read", "GET",
                                       kClient + "/directory/room/" + urlEncode(alias), std::nullopt, actor);
            if (existing.ok()) created = existing.body.value("room_id", "");
        }
        if (!r.ok() && created.empty()) return classify(r, "create_room", op.attempts);
        setMembership(op.actor, created, "join");
        return done(json{{"room_id", created}});
    }
    if (op.kind == "upload") {
        auto started = Clock::now();
        std::map<std::string, std::string> query;
        if (!str(p, "filename").empty()) query["filename"] = str(p, "filename");
        HsResponse r = hs_.callRaw("POST", "/_matrix/media/v3/upload", op.bytes ? *op.bytes : std::string(),
                                   str(p, "mimetype").empty() ? "application/octet-stream" : str(p, "mimetype"),
                                   actor, query);
        requestSeconds_.observe(std::chrono::duration<double>(Clock::now() - started).count());
        if (!r.ok()) return classify(r, "upload", op.attempts);
        return done(json{{"content_uri", r.body.value("content_uri", "")}});
    }
    if (op.kind == "download") {
        HsResponse r = downloadMedia(str(p, "mxc"), authenticatedMedia_, [&](const std::string& path) {
            return call("download", "GET", path, std::nullopt, actor);
        });
        if (!r.ok()) return classify(r, "download", op.attempts);
        return done(json(r.raw));
    }
    Outcome out;
    out.kind = Outcome::Kind::Failed;
    out.failure.networkError = "unknown outbox request kind '" + op.kind + "'";
    out.failedStep = op.kind;
    return out;
}

// --- What the homeserver knows of our users ----------------------------------------------------

bool Outbox::isRegistered(const UserId& user) {
    std::lock_guard lock(usersMutex_);
    auto it = users_.find(user.str());
    return it != users_.end() && it->second.registered;
}

void Outbox::markRegistered(const UserId& user) {
    {
        std::lock_guard lock(usersMutex_);
        users_[user.str()].registered = true;
    }
    StagedOp op;
    op.apply = [id = user.str()](SQLite::Database& db) {
        SQLite::Statement q(db, "INSERT INTO intent_state(user_id, registered) VALUES (?, 1) "
                                "ON CONFLICT(user_id) DO UPDATE SET registered = 1");
        q.bind(1, id);
        q.exec();
    };
    journal_.runOps({std::move(op)}, false);
}

std::string Outbox::membership(const UserId& user, const std::string& room) {
    std::lock_guard lock(usersMutex_);
    auto it = users_.find(user.str());
    if (it == users_.end()) return {};
    auto m = it->second.membership.find(room);
    return m == it->second.membership.end() ? std::string() : m->second;
}

void Outbox::setMembership(const UserId& user, const std::string& room, const std::string& membership) {
    if (room.empty() || room[0] != '!') return;  // aliases are not remembered, their rooms are
    {
        std::lock_guard lock(usersMutex_);
        users_[user.str()].membership[room] = membership;
    }
    StagedOp op;
    op.apply = [id = user.str(), room, membership](SQLite::Database& db) {
        SQLite::Statement q(db, "INSERT INTO intent_membership(user_id, room_id, membership) VALUES (?, ?, ?) "
                                "ON CONFLICT(user_id, room_id) DO UPDATE SET membership = excluded.membership");
        q.bind(1, id);
        q.bind(2, room);
        q.bind(3, membership);
        q.exec();
    };
    journal_.runOps({std::move(op)}, false);
}

std::optional<std::string> Outbox::profileValue(const UserId& user, const std::string& field) {
    std::lock_guard lock(usersMutex_);
    auto it = users_.find(user.str());
    if (it == users_.end()) return std::nullopt;
    auto f = it->second.profile.find(field);
    if (f == it->second.profile.end()) return std::nullopt;
    return f->second;
}

void Outbox::noteProfileRequested(const UserId& user, const std::string& field, const std::string& value) {
    std::lock_guard lock(usersMutex_);
    users_[user.str()].profile[field] = value;
}

void Outbox::persistProfile(const UserId& user, const std::string& field, const std::string& value) {
    StagedOp op;
    const std::string column = field == "displayname" ? "displayname" : "avatar_url";
    op.apply = [id = user.str(), column, value](SQLite::Database& db) {
        SQLite::Statement q(db, "INSERT INTO intent_state(user_id, registered, " + column + ") VALUES (?, 1, ?) "
                                "ON CONFLICT(user_id) DO UPDATE SET " + column + " = excluded." + column);
        q.bind(1, id);
        q.bind(2, value);
        q.exec();
    };
    journal_.runOps({std::move(op)}, false);
}

void Outbox::deleteRow(int64_t id) {
    StagedOp op;
    op.apply = [id](SQLite::Database& db) {
        SQLite::Statement q(db, "DELETE FROM outbox WHERE id = ?");
        q.bind(1, static_cast<int64_t>(id));
        q.exec();
    };
    journal_.runOps({std::move(op)}, false);
}

}  // namespace mxbridge::detail
