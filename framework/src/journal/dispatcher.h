// Runs handlers for journalled items: in order within a queue (a room), queues in parallel,
// on a fixed pool of worker threads. A handler may ask for a retry; the queue then pauses
// for the back-off while other rooms go on.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "journal/journal.h"
#include "mxbridge/metrics.h"

namespace mxbridge::detail {

struct HandleResult {
    bool retry = false;
    std::chrono::milliseconds retryAfter{0};
    std::vector<KvWrite> writes;  // staged by the hook; committed with the done mark
    std::vector<StagedOp> ops;    // likewise, for the stores and the outbox
};

class Dispatcher {
public:
    using Handler = std::function<HandleResult(DispatchItem&)>;
    using DoneSink = std::function<void(std::vector<Completion>&&)>;

    // Called with each finished item's kv writes before the next item of its room runs, so
    // that item reads them (Journal::showWrites); completions are handed over per turn.
    using ShowWrites = std::function<void(std::vector<KvWrite>&)>;

    Dispatcher(unsigned workers, Handler handler, DoneSink onDone, Metrics& metrics,
               ShowWrites showWrites = {});
    ~Dispatcher();

    void start();
    void enqueue(std::vector<DispatchItem>&& items);
    // Items queued or running.
    size_t backlog() const { return backlog_.load(std::memory_order_relaxed); }
    // Lets queued items run until the backlog is empty or `drainFor` has passed, then stops
    // the workers after their current item. What is left is replayed at the next start.
    void stop(std::chrono::milliseconds drainFor);

private:
    struct Queue {
        std::deque<DispatchItem> items;
        bool scheduled = false;  // in ready_, delayed_, a turn, or held by a worker
    };
    // A worker's turn: rooms it reserved (taken from ready_) and has not started yet. Their
    // items stay in their queues until started, so a stalled turn's rooms can be taken over.
    struct Turn {
        std::deque<std::string> rooms;
        std::chrono::steady_clock::time_point sliceStarted;  // when its current room began
    };
    void work(Turn& mine);
    // With mutex_ held:
    void reserveTurn(Turn& mine);
    bool stealStalled(Turn& mine, std::chrono::steady_clock::time_point now);
    void handOver(std::unique_lock<std::mutex>& lock, std::vector<Completion>& completions);
    // Sorts handed-over batches into their queues. Called with mutex_ held.
    void takeInbox();

    unsigned workerCount_;
    Handler handler_;
    DoneSink onDone_;
    ShowWrites showWrites_;
    Gauge& backlogGauge_;
    Counter& retries_;

    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable drained_;
    std::unordered_map<std::string, Queue> queues_;
    std::vector<std::vector<DispatchItem>> inbox_;  // batches not yet sorted into queues
    std::deque<std::string> ready_;
    std::multimap<std::chrono::steady_clock::time_point, std::string> delayed_;
    std::atomic<size_t> backlog_{0};
    unsigned idle_ = 0;       // workers waiting for work
    bool watching_ = false;   // one idle worker wakes now and then to look for stalled turns
    std::vector<std::unique_ptr<Turn>> turns_;  // one per worker
    // Recent handling time per item, to size turns; starts high (one room per turn).
    std::atomic<int64_t> itemCostNs_{1'000'000};
    bool stopping_ = false;
    std::vector<std::thread> workers_;
};

}  // namespace mxbridge::detail
