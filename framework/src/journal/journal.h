// The durable transaction journal. A transaction is acknowledged only once its body is
// committed to SQLite; concurrent transactions share one commit (group commit), so
// durability does not cost an fsync per request. One writer thread owns every write:
// new transactions, done marks from the dispatcher and the bridge's key/value writes,
// so a handler's writes and its event's done mark land in the same commit.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "journal/transaction_parser.h"
#include "mxbridge/events.h"
#include "mxbridge/log.h"
#include "mxbridge/metrics.h"
#include "ops/bridge_health.h"
#include "store/database.h"
#include "util/bounded_hash_set.h"

namespace SQLite {
class Database;
}

namespace mxbridge::detail {

struct JournalOptions {
    size_t txnWindow = 65536;          // (txnId, body) pairs remembered, to recognise retries
    size_t eventWindow = 262144;       // event ids remembered, to drop re-sent events
    size_t maxBacklogItems = 8192;     // undispatched items beyond which acks wait (bounds memory)
    size_t maxBatch = 512;             // transactions per group commit
    // Done marks alone are not urgent (a lost one only means a replay after a crash), so the
    // writer lets them gather this long before committing them on their own.
    std::chrono::microseconds completionLinger{2000};
    // WAL frames (4 KB pages) after which a commit wakes the checkpointer for its one pass
    // of this log generation (~48 MB), and after which the writer restarts the log itself
    // because steady load kept SQLite from doing it (~64 MB): the bound on the file's size.
    int checkpointAfterFrames = 12288;
    int restartAfterFrames = 16384;
    // A failed commit is tried again after this, doubling up to the cap: a full disk must not
    // spin the writer (and the log) every few milliseconds.
    std::chrono::milliseconds retryFirst{250};
    std::chrono::milliseconds retryCap{5000};
};

struct KvWrite {
    std::string key;
    std::optional<std::string> value;  // nullopt erases
    uint64_t generation = 0;           // set by the journal; matches the overlay entry
};

// A write to the framework's tables (stores, outbox) made by bridge code. Applied on the
// writer thread inside its transaction: with an event's done mark when made in a hook,
// otherwise in the next group commit. `afterCommit` (optional) runs once it is durable.
struct StagedOp {
    std::function<void(SQLite::Database&)> apply;
    std::function<void()> afterCommit;
};

// One item ready for its handler. `pos` orders items within a queue across restarts.
struct DispatchItem {
    std::string queueKey;
    uint64_t pos;
    uint64_t txnSeq;
    MatrixEvent event;
    uint32_t attempts = 0;  // handler calls so far that asked for a retry
    std::string unreadable;  // ParsedItem::unreadable: skipped, not handed to the connector
};

// The dispatcher's report that an item's handler finished, with the writes it staged.
struct Completion {
    std::string queueKey;
    uint64_t pos;
    uint64_t txnSeq;
    std::vector<KvWrite> writes;
    std::vector<StagedOp> ops;
};

enum class SubmitOutcome { Accepted, Duplicate, Failed };

struct Submission {
    std::string txnId;
    std::shared_ptr<std::string> body;
    std::vector<ParsedItem> items;
    // Called on the writer thread once the outcome is durable (or has failed).
    std::function<void(SubmitOutcome)> onDone;
    // Filled by Journal::submit() on the caller's thread (from `items`, which it empties), so
    // the writer, which every ack waits for, only hashes-in and hands out.
    uint64_t txnKey = 0;
    std::vector<uint64_t> itemHashes;     // per item: its event id's hash, or kNoEventId
    std::vector<DispatchItem> prepared;   // per item, without its position yet
};

class Journal {
public:
    using DispatchSink = std::function<void(std::vector<DispatchItem>&&)>;
    using BacklogProbe = std::function<size_t()>;

    Journal(const Database& database, JournalOptions options, Metrics& metrics);
    ~Journal();
    Journal(const Journal&) = delete;
    Journal& operator=(const Journal&) = delete;

    // Reads the journal: remembers recent transactions and event ids, and returns the items
    // that were acknowledged but not handled before the last stop, in order. Call once,
    // before start().
    std::vector<DispatchItem> recover();
    void start(DispatchSink sink, BacklogProbe backlog);
    // Commits what is queued, then stops the writer thread.
    void stop();
    // Called as the bridge begins to stop, before the connector: from then on, while commits
    // fail, a caller waiting for its write (kvWriteNow, runOps with wait) is let go instead
    // of waiting for a disk that may never come back, so the stop can finish. The write
    // stays queued and is retried until stop().
    void stopWaiting();

    void submit(Submission submission);
    void complete(std::vector<Completion>&& completions);

    // The bridge's key/value store. Reads see staged and queued writes first.
    std::optional<std::string> kvGet(const std::string& key);
    // Keys starting with `prefix` and their values, in key order, queued writes included.
    std::vector<std::pair<std::string, std::string>> kvList(const std::string& prefix);
    // Blocks until the writes are committed (for writes made outside a hook); returns
    // without it, logged, once the database file is gone or the bridge is stopping while
    // commits fail (see stopWaiting()).
    void kvWriteNow(std::vector<KvWrite> writes);
    // Makes a finished hook's writes visible to kvGet() at once, before its completion is
    // handed over (the next event of the room may run before that). complete() does it for
    // writes not shown yet.
    void showWrites(std::vector<KvWrite>& writes) { noteOverlay(writes); }
    // Queues framework-table writes for the next commit; `wait` blocks until it is done.
    // Never wait from the writer thread itself (an afterCommit callback).
    void runOps(std::vector<StagedOp> ops, bool wait);

    uint64_t committedTransactions() const;
    // Where commit failures, a full disk and a vanished database file are reported (for
    // /health and the WARN lines); without it the journal keeps its own. Call before start().
    void reportTo(BridgeHealth& health) { health_ = &health; }

private:
    struct KvRequest {
        std::vector<KvWrite> writes;
        std::vector<StagedOp> ops;
        std::function<void()> onDone;
    };
    void run();
    void checkpointLoop();
    // Hands a request to the writer; with `wait`, returns once it is committed.
    void queueRequest(KvRequest request, bool wait);
    void noteOverlay(std::vector<KvWrite>& writes);
    void dropOverlay(const std::vector<KvWrite>& writes);
    // After SQLITE_FULL: copies the log into the database and truncates it, which gives its
    // space back, and from then on restarts the log before it grows as long again.
    void freeLogSpace(SQLite::Database& db);
    // Stopping while commits fail: tells every waiter, logs what is left for the replay.
    void abandonUncommitted(std::vector<Submission>& subs, std::vector<Completion>& comps,
                            std::vector<KvRequest>& kvs);
    // Under mutex_: true when a waiter would wait for a commit that may never come.
    bool waitingIsHopeless() const { return commitsFailing_ && (stopRequested_ || lostForGood_); }
    // Under mutex_: takes the waiters off the queued requests (their writes stay queued).
    std::vector<std::function<void()>> takeWaiters();
    // Lets taken waiters go, outside mutex_, and says their writes are not committed yet.
    void releaseWaiters(std::vector<std::function<void()>> waiters);

    const Database& database_;
    JournalOptions options_;
    Logger log_{"journal"};
    Counter& txnAccepted_;
    Counter& txnDuplicate_;
    Counter& txnFailed_;
    Counter& eventsDuplicate_;
    Histogram& commitSeconds_;
    Histogram& batchSize_;

    std::mutex mutex_;
    std::condition_variable wake_;
    std::vector<Submission> submissions_;
    std::vector<Completion> completions_;
    std::vector<KvRequest> kvRequests_;
    bool stopping_ = false;
    bool stopRequested_ = false;   // stopWaiting() was called
    bool commitsFailing_ = false;  // the last commit failed (set by the writer)
    bool lostForGood_ = false;     // the writer's databaseLost_, seen under mutex_
    std::thread writer_;
    // Checkpoints copy the WAL into the database file and fsync it; done on their own thread
    // so the writer (and so the acks) never waits for them.
    std::thread checkpointer_;
    std::condition_variable checkpointWake_;
    // A checkpointer pass holds SQLite's checkpoint lock, so the writer's restart of the log
    // fails as busy until it ends; under mutex_. Ended passes notify checkpointPassDone_.
    bool checkpointPassRunning_ = false;
    std::condition_variable checkpointPassDone_;
    DispatchSink sink_;
    BacklogProbe backlog_;

    // Writer-thread state.
    BoundedHashSet seenTxns_;
    BoundedHashSet seenEvents_;
    std::unordered_map<uint64_t, uint32_t> remaining_;  // txn seq -> items not yet handled
    uint64_t lastSeq_ = 0;
    std::atomic<int> logFrames_{0};  // the write-ahead log's length after the last commit
    std::atomic<uint64_t> logGeneration_{0};  // times the log was started over
    uint64_t wokenGeneration_ = ~uint64_t{0};  // writer: the generation it woke the checkpointer for
    uint64_t commits_ = 0;
    std::atomic<uint64_t> committedTxns_{0};
    // The log lengths that start a checkpoint pass and a restart: the options', lowered for
    // good once the disk was found full (read by the checkpointer and the WAL hook too).
    std::atomic<int> checkpointLimit_;
    std::atomic<int> restartLimit_;
    // Set once the database file is gone from its path (deleted or replaced): nothing is
    // committed or acknowledged again by this process.
    bool databaseLost_ = false;
    bool diskWasFull_ = false;  // writer: a commit met SQLITE_FULL since the start
    BridgeHealth ownHealth_;
    BridgeHealth* health_ = &ownHealth_;

    std::mutex overlayMutex_;
    std::unordered_map<std::string, std::pair<std::optional<std::string>, uint64_t>> overlay_;
    uint64_t overlayGeneration_ = 0;
    std::unique_ptr<SQLite::Database> readDb_;
    std::mutex readMutex_;
};

}  // namespace mxbridge::detail
