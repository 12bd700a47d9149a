#include "journal/journal.h"
#include "util/thread_name.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <sqlite3.h>

#include "util/hash64.h"

namespace mxbridge::detail {

namespace {

constexpr int kIndexBits = 24;
constexpr uint64_t kNoEventId = 1;  // item hash for ephemeral/to-device items (never deduped)
constexpr uint64_t kDuplicate = 0;  // item hash for an event already seen: not dispatched

uint64_t positionOf(uint64_t seq, size_t index) { return (seq << kIndexBits) | index; }

uint64_t eventHash(const std::string& eventId) {
    uint64_t h = hash64(eventId);
    return h <= kNoEventId ? h + 2 : h;  // keep the two marker values free
}

uint64_t txnKeyOf(const std::string& txnId, const std::string& body) {
    return hashCombine(hash64(txnId), hash64(body));
}

int64_t nowMs() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::vector<uint64_t> unpackHashes(const SQLite::Column& column) {
    std::vector<uint64_t> out(static_cast<size_t>(column.getBytes()) / 8);
    if (!out.empty()) std::memcpy(out.data(), column.getBlob(), out.size() * 8);
    return out;
}

// Which serial queue an item belongs to: its room, or a shared one for room-less items.
std::string queueKeyFor(const ParsedItem& item) {
    if (!item.fields.roomId.empty()) return item.fields.roomId;
    return item.source == EventSource::ToDevice ? "to_device" : "presence";
}

// The dispatcher's view of a parsed item: its queue, its event (sharing the body), its place.
DispatchItem dispatchItemFor(ParsedItem& item, const std::shared_ptr<const std::string>& body,
                             uint64_t pos, uint64_t txnSeq) {
    std::string_view raw(body->data() + item.offset, item.length);
    return DispatchItem{.queueKey = queueKeyFor(item),
                        .pos = pos,
                        .txnSeq = txnSeq,
                        .event = MatrixEvent(item.source, body, raw, std::move(item.fields)),
                        .attempts = 0,
                        .unreadable = std::move(item.unreadable)};
}

}  // namespace


Journal::Journal(const Database& database, JournalOptions options, Metrics& metrics)
    : database_(database),
      options_(options),
      txnAccepted_(metrics.counter("mxbridge_transactions_total",
                                   "Transactions received from the homeserver, by outcome",
                                   {{"outcome", "accepted"}})),
      txnDuplicate_(metrics.counter("mxbridge_transactions_total", "",
                                    {{"outcome", "duplicate"}})),
      txnFailed_(metrics.counter("mxbridge_transactions_total", "", {{"outcome", "failed"}})),
      eventsDuplicate_(metrics.counter("mxbridge_events_duplicate_total",
                                       "Events dropped because their event_id was already handled")),
      commitSeconds_(metrics.histogram("mxbridge_journal_commit_seconds",
                                       "Time to commit one group of journal writes", {},
                                       {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                        0.05, 0.1, 0.25, 1})),
      batchSize_(metrics.histogram("mxbridge_journal_batch_transactions",
                                   "Transactions committed together in one group commit", {},
                                   {1, 2, 4, 8, 16, 32, 64, 128, 256, 512})),
      seenTxns_(options.txnWindow),
      seenEvents_(options.eventWindow),
      checkpointLimit_(options.checkpointAfterFrames),
      restartLimit_(options.restartAfterFrames) {
    readDb_ = database_.connect();
}

Journal::~Journal() { stop(); }

std::vector<DispatchItem> Journal::recover() {
    auto db = database_.connect();
    {
        SQLite::Statement last(*db, "SELECT COALESCE(MAX(seq), 0) FROM journal_txn");
        last.executeStep();
        lastSeq_ = static_cast<uint64_t>(last.getColumn(0).getInt64());
    }
    // Remember recent transactions and events, oldest first so eviction order is right.
    {
        SQLite::Statement recent(*db,
            "SELECT txn_key, item_hashes FROM journal_txn ORDER BY seq DESC LIMIT ?");
        recent.bind(1, static_cast<int64_t>(options_.txnWindow));
        std::vector<std::pair<uint64_t, std::vector<uint64_t>>> rows;
        while (recent.executeStep()) {
            rows.emplace_back(static_cast<uint64_t>(recent.getColumn(0).getInt64()),
                              unpackHashes(recent.getColumn(1)));
        }
        for (auto it = rows.rbegin(); it != rows.rend(); ++it) {
            seenTxns_.insert(it->first);
            for (uint64_t h : it->second)
                if (h > kNoEventId) seenEvents_.insert(h);
        }
    }
    std::vector<DispatchItem> replay;
    std::map<std::string, uint64_t> cursors;
    SQLite::Statement cursorQuery(*db, "SELECT done_pos FROM journal_cursor WHERE queue_key = ?");
    auto cursorOf = [&](const std::string& key) {
        auto it = cursors.find(key);
        if (it != cursors.end()) return it->second;
        cursorQuery.bind(1, key);
        uint64_t pos = cursorQuery.executeStep()
                           ? static_cast<uint64_t>(cursorQuery.getColumn(0).getInt64()) : 0;
        cursorQuery.reset();
        cursors.emplace(key, pos);
        return pos;
    };
    std::vector<uint64_t> finished;
    SQLite::Statement pending(*db,
        "SELECT seq, body, item_hashes FROM journal_txn WHERE body IS NOT NULL ORDER BY seq");
    TransactionParser parser;
    while (pending.executeStep()) {
        uint64_t seq = static_cast<uint64_t>(pending.getColumn(0).getInt64());
        auto body = std::make_shared<std::string>(
            static_cast<const char*>(pending.getColumn(1).getBlob()),
            static_cast<size_t>(pending.getColumn(1).getBytes()));
        std::vector<uint64_t> hashes = unpackHashes(pending.getColumn(2));
        ParseOutcome parsed = parser.parse(*body);
        if (parsed.status != ParseOutcome::Status::Ok || parsed.items.size() != hashes.size()) {
            // Cannot happen for a body we accepted; keep it for inspection rather than guess.
            log_.error("journalled transaction no longer parses; left in place",
                       {{"seq", seq}, {"error", parsed.error}});
            continue;
        }
        std::shared_ptr<const std::string> shared = body;
        uint32_t count = 0;
        for (size_t i = 0; i < parsed.items.size(); ++i) {
            if (hashes[i] == kDuplicate) continue;
            DispatchItem d = dispatchItemFor(parsed.items[i], shared, positionOf(seq, i), seq);
            if (d.pos <= cursorOf(d.queueKey)) continue;
            d.event.markReplayed();
            replay.push_back(std::move(d));
            ++count;
        }
        if (count == 0) finished.push_back(seq);
        else remaining_[seq] = count;
    }
    pending.reset();
    if (!finished.empty()) {
        SQLite::Statement clear(*db, "UPDATE journal_txn SET body = NULL WHERE seq = ?");
        for (uint64_t seq : finished) {
            clear.bind(1, static_cast<int64_t>(seq));
            clear.exec();
            clear.reset();
        }
    }
    if (!replay.empty()) {
        log_.info("replaying events acknowledged but not handled before the last stop",
                  {{"events", replay.size()}, {"transactions", remaining_.size()}});
    }
    return replay;
}

void Journal::start(DispatchSink sink, BacklogProbe backlog) {
    sink_ = std::move(sink);
    backlog_ = std::move(backlog);
    writer_ = std::thread([this] {
        nameThisThread("mxb-journal");
        run();
    });
    checkpointer_ = std::thread([this] {
        nameThisThread("mxb-checkpoint");
        checkpointLoop();
    });
}

void Journal::checkpointLoop() {
    auto db = database_.connect();
    // One pass per log generation (between two restarts), late in it: a page written many
    // times meanwhile (a freed body page reused, the table's last leaf) is copied once, not
    // once per commit. The writer's restart then copies only what changed after this pass.
    // And one pass when commits stop, so the database file alone is up to date.
    uint64_t passedGeneration = ~uint64_t{0};
    int framesAtLastLook = 0;
    std::pair<uint64_t, int> idlePassAt{~uint64_t{0}, 0};  // generation and length then
    bool checkpointWarned = false;
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        checkpointWake_.wait_for(lock, std::chrono::seconds(1));
        if (stopping_) break;
        const int frames = logFrames_.load(std::memory_order_relaxed);
        const uint64_t generation = logGeneration_.load(std::memory_order_relaxed);
        const bool idle = frames > 0 && frames == framesAtLastLook &&
                          idlePassAt != std::pair{generation, frames};
        framesAtLastLook = frames;
        const bool due = frames > checkpointLimit_.load(std::memory_order_relaxed) &&
                         generation != passedGeneration;
        // Past the restart bound the writer checkpoints the rest itself (see run()); a pass
        // here would only make its restart fail as busy.
        if (!(due || idle) || frames > restartLimit_.load(std::memory_order_relaxed)) continue;
        checkpointPassRunning_ = true;
        lock.unlock();
        int rc = sqlite3_wal_checkpoint_v2(db->getHandle(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                           nullptr, nullptr);
        {
            std::lock_guard passed(mutex_);
            checkpointPassRunning_ = false;
        }
        checkpointPassDone_.notify_all();
        if (rc == SQLITE_OK) {
            passedGeneration = generation;
            if (idle) idlePassAt = {generation, frames};
            checkpointWarned = false;
        } else if (rc != SQLITE_BUSY) {
            // The idle pass is tried every second: one line per outage (a full disk), not per try.
            log_.log(checkpointWarned ? LogLevel::Debug : LogLevel::Warn, "WAL checkpoint failed; will retry",
                     {{"error", sqlite3_errmsg(db->getHandle())}});
            checkpointWarned = true;
        }
        lock.lock();
    }
    lock.unlock();
    try {
        db->exec("PRAGMA wal_checkpoint(TRUNCATE)");
    } catch (const std::exception& e) {
        log_.warn("final WAL checkpoint failed; SQLite will finish it at next open",
                  {{"error", e.what()}});
    }
}

void Journal::stop() {
    {
        std::lock_guard lock(mutex_);
        if (stopping_ && !writer_.joinable()) return;
        stopping_ = true;
    }
    wake_.notify_all();
    if (writer_.joinable()) writer_.join();
    checkpointWake_.notify_all();
    if (checkpointer_.joinable()) checkpointer_.join();
}

void Journal::stopWaiting() {
    std::vector<std::function<void()>> waiters;
    {
        std::lock_guard lock(mutex_);
        stopRequested_ = true;
        if (waitingIsHopeless()) waiters = takeWaiters();
    }
    releaseWaiters(std::move(waiters));
}

std::vector<std::function<void()>> Journal::takeWaiters() {
    std::vector<std::function<void()>> waiters;
    for (KvRequest& r : kvRequests_) {
        if (r.onDone) waiters.push_back(std::move(r.onDone));
        r.onDone = nullptr;
    }
    return waiters;
}

void Journal::releaseWaiters(std::vector<std::function<void()>> waiters) {
    if (waiters.empty()) return;
    log_.error("the journal cannot commit: writes made outside a hook are not waited for any "
               "longer; they are retried until the bridge stops and lost if none succeeds",
               {{"waiting_writers", waiters.size()}});
    for (auto& w : waiters) w();
}

void Journal::submit(Submission submission) {
    submission.txnKey = txnKeyOf(submission.txnId, *submission.body);
    submission.itemHashes.assign(submission.items.size(), kNoEventId);
    submission.prepared.reserve(submission.items.size());
    std::shared_ptr<const std::string> body = submission.body;
    for (size_t i = 0; i < submission.items.size(); ++i) {
        ParsedItem& item = submission.items[i];
        if (item.source == EventSource::Timeline) submission.itemHashes[i] = eventHash(item.fields.eventId);
        submission.prepared.push_back(dispatchItemFor(item, body, 0, 0));  // placed by the writer
    }
    submission.items.clear();
    {
        std::lock_guard lock(mutex_);
        if (!stopping_) {
            submissions_.push_back(std::move(submission));
            submission.onDone = nullptr;
        }
    }
    if (submission.onDone) {
        submission.onDone(SubmitOutcome::Failed);  // shutting down: the homeserver retries later
        return;
    }
    wake_.notify_one();
}

void Journal::complete(std::vector<Completion>&& completions) {
    for (auto& c : completions) noteOverlay(c.writes);
    bool wasEmpty;
    {
        std::lock_guard lock(mutex_);
        wasEmpty = completions_.empty();
        if (wasEmpty) {
            completions_.swap(completions);
        } else {
            completions_.insert(completions_.end(), std::make_move_iterator(completions.begin()),
                                std::make_move_iterator(completions.end()));
        }
    }
    if (wasEmpty) wake_.notify_one();
}

void Journal::noteOverlay(std::vector<KvWrite>& writes) {
    if (writes.empty()) return;
    std::lock_guard lock(overlayMutex_);
    for (auto& w : writes) {
        if (w.generation != 0) continue;  // already shown
        w.generation = ++overlayGeneration_;
        overlay_[w.key] = {w.value, w.generation};
    }
}

void Journal::dropOverlay(const std::vector<KvWrite>& writes) {
    if (writes.empty()) return;
    std::lock_guard lock(overlayMutex_);
    for (const auto& w : writes) {
        auto it = overlay_.find(w.key);
        if (it != overlay_.end() && it->second.second == w.generation) overlay_.erase(it);
    }
}

std::optional<std::string> Journal::kvGet(const std::string& key) {
    {
        std::lock_guard lock(overlayMutex_);
        auto it = overlay_.find(key);
        if (it != overlay_.end()) return it->second.first;
    }
    std::lock_guard lock(readMutex_);
    SQLite::Statement q(*readDb_, "SELECT value FROM bridge_kv WHERE key = ?");
    q.bind(1, key);
    if (!q.executeStep()) return std::nullopt;
    return std::string(static_cast<const char*>(q.getColumn(0).getBlob()),
                       static_cast<size_t>(q.getColumn(0).getBytes()));
}

std::vector<std::pair<std::string, std::string>> Journal::kvList(const std::string& prefix) {
    std::map<std::string, std::optional<std::string>> found;
    {
        std::lock_guard lock(readMutex_);
        // A range on the primary key: keys from `prefix` up to the first key past all of them.
        SQLite::Statement q(*readDb_, "SELECT key, value FROM bridge_kv WHERE key >= ? ORDER BY key");
        q.bind(1, prefix);
        while (q.executeStep()) {
            std::string key = q.getColumn(0).getString();
            if (!key.starts_with(prefix)) break;
            found[key] = std::string(static_cast<const char*>(q.getColumn(1).getBlob()),
                                     static_cast<size_t>(q.getColumn(1).getBytes()));
        }
    }
    {
        std::lock_guard lock(overlayMutex_);
        for (const auto& [key, entry] : overlay_)
            if (key.starts_with(prefix)) found[key] = entry.first;
    }
    std::vector<std::pair<std::string, std::string>> out;
    for (auto& [key, value] : found)
        if (value) out.emplace_back(key, std::move(*value));
    return out;
}

void Journal::kvWriteNow(std::vector<KvWrite> writes) {
    noteOverlay(writes);
    queueRequest(KvRequest{std::move(writes), {}, nullptr}, true);
}

void Journal::runOps(std::vector<StagedOp> ops, bool wait) {
    if (ops.empty()) return;
    queueRequest(KvRequest{{}, std::move(ops), nullptr}, wait);
}

void Journal::queueRequest(KvRequest request, bool wait) {
    std::mutex doneMutex;
    std::condition_variable doneCv;
    bool done = false;
    if (wait) {
        request.onDone = [&] {
            std::lock_guard l(doneMutex);
            done = true;
            doneCv.notify_all();
        };
    }
    {
        std::lock_guard lock(mutex_);
        if (wait && waitingIsHopeless()) {
            // The caller would wait for a disk that may never come back (see stopWaiting()).
            request.onDone = nullptr;
            wait = false;
            log_.error("the journal cannot commit: not waiting for a write made outside a hook; "
                       "it is retried until the bridge stops and lost if none succeeds");
        }
        kvRequests_.push_back(std::move(request));
    }
    wake_.notify_one();
    if (!wait) return;
    std::unique_lock l(doneMutex);
    doneCv.wait(l, [&] { return done; });
}

uint64_t Journal::committedTransactions() const { return committedTxns_.load(); }

void Journal::freeLogSpace(SQLite::Database& db) {
    // A log as long as the one that met the full disk would meet it again: restart it at half
    // that from now on, so the space freed for it is enough (not a whole 64 MB generation).
    // Lowered whether or not the truncation below succeeds: with the disk still full, copying
    // the log into the database may need pages the disk lacks, and the next restart, due at
    // once, is what then gives the log its space back once some is free.
    constexpr int kMinRestartFrames = 512;  // 2 MB: below that, restarts would cost every commit
    const int frames = logFrames_.load(std::memory_order_relaxed);
    const int lowered = std::max(kMinRestartFrames, frames / 2);
    diskWasFull_ = true;
    if (lowered < restartLimit_.load(std::memory_order_relaxed)) {
        restartLimit_.store(lowered, std::memory_order_relaxed);
        checkpointLimit_.store(lowered * 3 / 4, std::memory_order_relaxed);
        log_.warn("the disk holding the database is full: its write-ahead log is now started over "
                  "every " + std::to_string(lowered * 4 / 1024) + " MB (restart the bridge once "
                  "there is room again to go back to " +
                  std::to_string(options_.restartAfterFrames * 4 / 1024) + " MB)",
                  {{"database", database_.path()}});
    }
    int rc = sqlite3_wal_checkpoint_v2(db.getHandle(), nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
    if (rc != SQLITE_OK) {
        log_.debug("truncating the WAL after a full disk failed", {{"error", sqlite3_errmsg(db.getHandle())}});
        return;
    }
    logFrames_.store(0, std::memory_order_relaxed);
    logGeneration_.fetch_add(1, std::memory_order_relaxed);
}

void Journal::abandonUncommitted(std::vector<Submission>& subs, std::vector<Completion>& comps,
                                 std::vector<KvRequest>& kvs) {
    for (Submission& sub : subs) {
        txnFailed_.inc();
        if (sub.onDone) sub.onDone(SubmitOutcome::Failed);
    }
    size_t kvWrites = 0;
    for (KvRequest& r : kvs) {
        kvWrites += r.writes.size() + r.ops.size();
        if (r.onDone) r.onDone();  // their callers must not wait forever on a stopping bridge
    }
    if (!comps.empty() || kvWrites > 0) {
        log_.error("stopping with writes the journal could not commit: the events they finished "
                   "are handled again at the next start; the other writes are lost",
                   {{"done_marks", comps.size()}, {"other_writes", kvWrites}});
    }
}

void Journal::run() {
    auto db = database_.connect();
    db->exec("PRAGMA wal_autocheckpoint=0");  // checkpointLoop() does it off this thread
    // Debian builds SQLite with secure_delete on: a handled body's pages, freed when it is
    // cleared, would each be written again as zeros, doubling the journal's writes. FAST
    // zeroes only where that costs no extra page; a freed body page keeps its bytes until
    // the next transactions reuse it, which under load is within moments.
    db->exec("PRAGMA secure_delete=FAST");
    // After each commit SQLite reports the WAL's length: the checkpointer's cue, once per
    // log generation. A shorter log than before means SQLite started it over by itself.
    sqlite3_wal_hook(
        db->getHandle(),
        [](void* context, sqlite3*, const char*, int frames) -> int {
            auto* self = static_cast<Journal*>(context);
            // On the writer, after its commit.
            if (frames < self->logFrames_.load(std::memory_order_relaxed))
                self->logGeneration_.fetch_add(1, std::memory_order_relaxed);
            self->logFrames_.store(frames, std::memory_order_relaxed);
            const uint64_t generation = self->logGeneration_.load(std::memory_order_relaxed);
            if (frames > self->checkpointLimit_.load(std::memory_order_relaxed) &&
                generation != self->wokenGeneration_) {
                self->wokenGeneration_ = generation;
                self->checkpointWake_.notify_one();
            }
            return SQLITE_OK;
        },
        this);
    // Prepared once: exec("BEGIN") would parse the SQL again on every commit.
    SQLite::Statement begin(*db, "BEGIN IMMEDIATE");
    SQLite::Statement commit(*db, "COMMIT");
    SQLite::Statement insertTxn(*db,
        "INSERT INTO journal_txn(seq, txn_id, txn_key, received_ms, body, item_hashes) "
        "VALUES (?, ?, ?, ?, ?, ?)");
    SQLite::Statement upsertCursor(*db,
        "INSERT INTO journal_cursor(queue_key, done_pos) VALUES (?, ?) "
        "ON CONFLICT(queue_key) DO UPDATE SET done_pos = max(done_pos, excluded.done_pos)");
    SQLite::Statement clearBody(*db, "UPDATE journal_txn SET body = NULL WHERE seq = ?");
    SQLite::Statement putKv(*db,
        "INSERT INTO bridge_kv(key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value");
    SQLite::Statement eraseKv(*db, "DELETE FROM bridge_kv WHERE key = ?");
    SQLite::Statement prune(*db, "DELETE FROM journal_txn WHERE seq <= ? AND body IS NULL");

    auto applyKv = [&](const std::vector<KvWrite>& writes) {
        for (const auto& w : writes) {
            if (w.value) {
                putKv.bind(1, w.key);
                putKv.bind(2, w.value->data(), static_cast<int>(w.value->size()));
                putKv.exec();
                putKv.reset();
            } else {
                eraseKv.bind(1, w.key);
                eraseKv.exec();
                eraseKv.reset();
            }
        }
    };

    std::vector<Submission> subs;
    std::vector<Completion> comps;
    std::vector<KvRequest> kvs;
    std::chrono::milliseconds retryDelay = options_.retryFirst;
    bool lastCommitFailed = false;  // mirrored in commitsFailing_ for the waiters
    bool restartWarned = false;
    for (;;) {
        if (logFrames_.load(std::memory_order_relaxed) > restartLimit_.load(std::memory_order_relaxed)) {
            // SQLite starts the log over only when a commit begins with every frame copied
            // back, which under steady load (a commit always running while the checkpointer
            // copies) never happens: the log file would grow by every body received, and
            // appending to fresh file pages costs more than overwriting old ones. So restart
            // it here, between two commits; the checkpointer has copied most of it already.
            // After a full disk, TRUNCATE: the log file then gives back what it grew to.
            int rc = sqlite3_wal_checkpoint_v2(db->getHandle(), nullptr,
                                               diskWasFull_ ? SQLITE_CHECKPOINT_TRUNCATE : SQLITE_CHECKPOINT_RESTART,
                                               nullptr, nullptr);
            if (rc == SQLITE_OK) {
                logFrames_.store(0, std::memory_order_relaxed);
                logGeneration_.fetch_add(1, std::memory_order_relaxed);
                restartWarned = false;
            } else if (rc != SQLITE_BUSY) {  // BUSY: the checkpointer is at it; after the next commit
                log_.log(restartWarned ? LogLevel::Debug : LogLevel::Warn, "WAL restart failed; will retry",
                         {{"error", sqlite3_errmsg(db->getHandle())}});
                restartWarned = true;
            } else if (logFrames_.load(std::memory_order_relaxed) >
                       2 * restartLimit_.load(std::memory_order_relaxed)) {
                // The checkpointer's pass is taking long (its fsync on a busy disk, its thread
                // starved of CPU): committing on regardless grows the log without bound (seen:
                // 20 MB against a 512 KB limit). Past twice the limit, wait for the pass to end
                // and restart then; transactions wait for their ack meanwhile, as a bound asks.
                std::unique_lock lock(mutex_);
                if (checkpointPassRunning_ && checkpointPassDone_.wait_for(lock, std::chrono::seconds(10), [&] {
                        return !checkpointPassRunning_ || stopping_;
                    }) && !stopping_) {
                    continue;
                }
            }
        }
        {
            std::unique_lock lock(mutex_);
            auto urgent = [&] {
                bool admit = !submissions_.empty() &&
                             (stopping_ || backlog_() < options_.maxBacklogItems);
                return stopping_ || admit || !kvRequests_.empty();
            };
            // The dispatcher lowers its backlog after reporting completions, without waking
            // us: while transactions are held for the backlog, look again every few ms.
            while (!urgent() && completions_.empty()) {
                if (submissions_.empty()) wake_.wait(lock);
                else wake_.wait_for(lock, std::chrono::milliseconds(5));
            }
            if (!urgent()) {
                // Only done marks: give more of them (or a transaction) a moment to arrive,
                // so they share a commit instead of costing one each.
                wake_.wait_for(lock, options_.completionLinger, urgent);
            }
            bool admit = stopping_ || backlog_() < options_.maxBacklogItems;
            if (admit && !submissions_.empty()) {
                size_t n = std::min(submissions_.size(), options_.maxBatch);
                subs.assign(std::make_move_iterator(submissions_.begin()),
                            std::make_move_iterator(submissions_.begin() + n));
                submissions_.erase(submissions_.begin(), submissions_.begin() + n);
            }
            // Done marks ride along with the transactions: deferring them while acks wait
            // made every fortieth commit clear dozens of bodies at once, an ack stalled
            // behind each (p99 x1.2 at 50 events per transaction).
            comps.swap(completions_);
            kvs.swap(kvRequests_);
            if (stopping_ && subs.empty() && comps.empty() && kvs.empty()) break;
        }
        auto started = std::chrono::steady_clock::now();

        struct Accepted {
            uint64_t seq;
            size_t sub;
            std::vector<uint64_t> hashes;
        };
        std::vector<Accepted> accepted;
        std::vector<uint64_t> newTxnKeys;
        std::vector<uint64_t> newEventHashes;
        std::vector<SubmitOutcome> outcomes(subs.size(), SubmitOutcome::Accepted);
        uint64_t firstSeq = lastSeq_;
        std::map<std::string, uint64_t> cursorUpdates;
        std::vector<uint64_t> finishedTxns;
        bool ok = true;
        std::string failure;
        int failureCode = SQLITE_OK;
        size_t duplicates = 0;
        try {
            if (databaseLost_) throw std::runtime_error("the database file is gone from " + database_.path());
            begin.exec();
            begin.reset();
            // The dedupe sets are megabytes: start every cache miss of this batch at once.
            size_t inserts = 0;
            for (const Submission& sub : subs) {
                seenTxns_.prefetch(sub.txnKey);
                for (uint64_t h : sub.itemHashes) {
                    if (h > kNoEventId) {
                        seenEvents_.prefetch(h);
                        ++inserts;
                    }
                }
            }
            seenTxns_.prefetchEvictions(subs.size());
            seenEvents_.prefetchEvictions(inserts);
            for (size_t s = 0; s < subs.size(); ++s) {
                Submission& sub = subs[s];
                uint64_t key = sub.txnKey;
                if (!seenTxns_.insert(key)) {
                    // A retry of a transaction already journalled (or in this very batch): it is
                    // acknowledged after this commit, never processed twice.
                    outcomes[s] = SubmitOutcome::Duplicate;
                    continue;
                }
                newTxnKeys.push_back(key);
                std::vector<uint64_t> hashes(sub.prepared.size(), kNoEventId);
                uint32_t live = 0;
                for (size_t i = 0; i < sub.prepared.size(); ++i) {
                    uint64_t h = sub.itemHashes[i];
                    if (h > kNoEventId) {
                        if (seenEvents_.insert(h)) {
                            hashes[i] = h;
                            newEventHashes.push_back(h);
                        } else {
                            hashes[i] = kDuplicate;
                            ++duplicates;
                            continue;
                        }
                    }
                    ++live;
                }
                uint64_t seq = ++lastSeq_;
                insertTxn.bind(1, static_cast<int64_t>(seq));
                insertTxn.bind(2, sub.txnId);
                insertTxn.bind(3, static_cast<int64_t>(key));
                insertTxn.bind(4, nowMs());
                if (live > 0) insertTxn.bindNoCopy(5, sub.body->data(), static_cast<int>(sub.body->size()));
                else insertTxn.bind(5);  // nothing to hand out: keep only what dedupe needs
                // An empty vector's data() may be null, which SQLite binds as NULL, not as an
                // empty blob: the NOT NULL column then fails the whole group commit.
                static const uint64_t kNoItems = 0;
                insertTxn.bindNoCopy(6, hashes.empty() ? static_cast<const void*>(&kNoItems) : hashes.data(),
                                     static_cast<int>(hashes.size() * 8));
                insertTxn.exec();
                insertTxn.reset();
                if (live > 0) accepted.push_back(Accepted{seq, s, std::move(hashes)});
            }
            std::unordered_map<uint64_t, uint32_t> handled;
            for (const Completion& c : comps) {
                applyKv(c.writes);
                for (const StagedOp& op : c.ops) op.apply(*db);
                uint64_t& cur = cursorUpdates[c.queueKey];
                cur = std::max(cur, c.pos);
                ++handled[c.txnSeq];
            }
            for (const auto& [seq, n] : handled) {
                auto it = remaining_.find(seq);
                if (it != remaining_.end() && it->second <= n) finishedTxns.push_back(seq);
            }
            for (const auto& [queueKey, pos] : cursorUpdates) {
                upsertCursor.bind(1, queueKey);
                upsertCursor.bind(2, static_cast<int64_t>(pos));
                upsertCursor.exec();
                upsertCursor.reset();
            }
            for (uint64_t seq : finishedTxns) {
                clearBody.bind(1, static_cast<int64_t>(seq));
                clearBody.exec();
                clearBody.reset();
            }
            for (const KvRequest& r : kvs) {
                applyKv(r.writes);
                for (const StagedOp& op : r.ops) op.apply(*db);
            }
            if (++commits_ % 1024 == 0 && lastSeq_ > options_.txnWindow) {
                prune.bind(1, static_cast<int64_t>(lastSeq_ - options_.txnWindow));
                prune.exec();
                prune.reset();
            }
            commit.exec();
            commit.reset();
            // SQLite in WAL mode goes on committing into a file deleted or replaced under it,
            // and the next start would begin with an empty database: check the name still
            // leads to our file before anything of this commit is acknowledged.
            int moved = 0;
            sqlite3_file_control(db->getHandle(), "main", SQLITE_FCNTL_HAS_MOVED, &moved);
            if (moved) {
                databaseLost_ = true;
                throw std::runtime_error("the database file " + database_.path() +
                                         " was deleted or replaced while the bridge ran");
            }
        } catch (const std::exception& e) {
            ok = false;
            failure = e.what();
            if (auto* sqlite = dynamic_cast<const SQLite::Exception*>(&e)) failureCode = sqlite->getErrorCode();
            begin.tryReset();
            commit.tryReset();
            try {
                db->exec("ROLLBACK");
            } catch (...) {
            }
            insertTxn.tryReset();
            upsertCursor.tryReset();
            clearBody.tryReset();
            putKv.tryReset();
            eraseKv.tryReset();
        }

        if (!ok) {
            // Undo the in-memory view of this batch; completions and kv writes are retried,
            // transactions are refused so the homeserver sends them again.
            if (databaseLost_) {
                health_->failing(HealthPart::Database, "database file deleted or replaced while running",
                                 database_.path() + " is not the file the bridge opened");
            } else {
                health_->failing(HealthPart::Journal, "journal cannot commit", failure);
                if ((failureCode & 0xff) == SQLITE_FULL) freeLogSpace(*db);
            }
            // Newest first: each key is then at the head of the set's eviction ring.
            for (auto k = newTxnKeys.rbegin(); k != newTxnKeys.rend(); ++k) seenTxns_.erase(*k);
            for (auto h = newEventHashes.rbegin(); h != newEventHashes.rend(); ++h) seenEvents_.erase(*h);
            lastSeq_ = firstSeq;
            for (auto& sub : subs) {
                txnFailed_.inc();
                if (sub.onDone) sub.onDone(SubmitOutcome::Failed);
            }
            std::vector<std::function<void()>> hopeless;
            {
                std::lock_guard lock(mutex_);
                completions_.insert(completions_.begin(), std::make_move_iterator(comps.begin()),
                                    std::make_move_iterator(comps.end()));
                kvRequests_.insert(kvRequests_.begin(), std::make_move_iterator(kvs.begin()),
                                   std::make_move_iterator(kvs.end()));
                commitsFailing_ = lastCommitFailed = true;
                lostForGood_ = databaseLost_;
                if (waitingIsHopeless()) hopeless = takeWaiters();
            }
            releaseWaiters(std::move(hopeless));
            subs.clear();
            comps.clear();
            kvs.clear();
            std::unique_lock lock(mutex_);
            if (stopping_) {
                subs.swap(submissions_);
                comps.swap(completions_);
                kvs.swap(kvRequests_);
                lock.unlock();
                abandonUncommitted(subs, comps, kvs);
                break;
            }
            // With the file gone nothing is tried, so a new transaction is refused at once.
            wake_.wait_for(lock, retryDelay, [&] { return stopping_ || (databaseLost_ && !submissions_.empty()); });
            retryDelay = std::min(retryDelay * 2, options_.retryCap);
            continue;
        }
        if (lastCommitFailed) {
            lastCommitFailed = false;
            std::lock_guard lock(mutex_);
            commitsFailing_ = false;
        }
        retryDelay = options_.retryFirst;
        health_->recovered(HealthPart::Journal);

        for (const Completion& c : comps) {
            auto it = remaining_.find(c.txnSeq);
            if (it != remaining_.end() && --it->second == 0) remaining_.erase(it);
        }
        commitSeconds_.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
        if (!subs.empty()) batchSize_.observe(static_cast<double>(subs.size()));
        if (duplicates) eventsDuplicate_.inc(duplicates);

        // Hand the new items to the dispatcher before acknowledging, so a fast next
        // transaction cannot overtake them in their room's queue.
        std::vector<DispatchItem> items;
        for (Accepted& a : accepted) {
            Submission& sub = subs[a.sub];
            uint32_t& left = remaining_[a.seq];
            for (size_t i = 0; i < sub.prepared.size(); ++i) {
                if (a.hashes[i] == kDuplicate) continue;
                DispatchItem& item = sub.prepared[i];
                item.pos = positionOf(a.seq, i);
                item.txnSeq = a.seq;
                items.push_back(std::move(item));
                ++left;
            }
        }
        if (!items.empty() && sink_) sink_(std::move(items));
        committedTxns_.fetch_add(subs.size());
        for (size_t s = 0; s < subs.size(); ++s) {
            if (outcomes[s] == SubmitOutcome::Duplicate) txnDuplicate_.inc();
            else txnAccepted_.inc();
            if (subs[s].onDone) subs[s].onDone(outcomes[s]);
        }
        for (const Completion& c : comps) {
            dropOverlay(c.writes);
            for (const StagedOp& op : c.ops)
                if (op.afterCommit) op.afterCommit();
        }
        for (KvRequest& r : kvs) {
            dropOverlay(r.writes);
            for (const StagedOp& op : r.ops)
                if (op.afterCommit) op.afterCommit();
            if (r.onDone) r.onDone();
        }
        subs.clear();
        comps.clear();
        kvs.clear();
    }
}

}  // namespace mxbridge::detail
