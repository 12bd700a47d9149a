#include "journal/dispatcher.h"

#include <algorithm>
#include "util/thread_name.h"

namespace mxbridge::detail {

namespace {
// Items a worker takes from one queue before letting other rooms have a turn.
constexpr size_t kRoomTurnSize = 64;
// A turn reserves further rooms while their estimated handling time stays within this. Most
// handlers only stage writes, and for them waking a worker and handing the journal its done
// marks per room would cost more than the handling; a room whose handler is slow (a remote
// call) gets a turn of its own once the estimate has seen it.
constexpr std::chrono::nanoseconds kTurnTarget = std::chrono::microseconds(200);
constexpr size_t kMaxTurnItems = 256;
// Rooms reserved for a turn wait while its worker is in a handler; past this, an idle worker
// takes them over, so one slow handler never holds up other rooms for long.
constexpr std::chrono::milliseconds kStall{5};
}  // namespace

Dispatcher::Dispatcher(unsigned workers, Handler handler, DoneSink onDone, Metrics& metrics,
                       ShowWrites showWrites)
    : workerCount_(workers == 0 ? 1 : workers),
      handler_(std::move(handler)),
      onDone_(std::move(onDone)),
      showWrites_(std::move(showWrites)),
      backlogGauge_(metrics.gauge("mxbridge_dispatch_backlog",
                                  "Journalled items waiting for or running their handler")),
      retries_(metrics.counter("mxbridge_dispatch_retries_total",
                               "Handler calls that asked to be retried later")) {}

Dispatcher::~Dispatcher() { stop(std::chrono::milliseconds(0)); }

void Dispatcher::start() {
    for (unsigned i = 0; i < workerCount_; ++i) turns_.push_back(std::make_unique<Turn>());
    for (unsigned i = 0; i < workerCount_; ++i) {
        workers_.emplace_back([this, turn = turns_[i].get()] {
            nameThisThread("mxb-dispatch");
            work(*turn);
        });
    }
}

void Dispatcher::enqueue(std::vector<DispatchItem>&& items) {
    if (items.empty()) return;
    size_t n = items.size();
    {
        // Only a hand-over here: the caller is the journal's writer, which every ack waits
        // for. A worker sorts the batch into its rooms' queues (takeInbox).
        std::lock_guard lock(mutex_);
        inbox_.push_back(std::move(items));
        backlog_.fetch_add(n, std::memory_order_relaxed);
    }
    backlogGauge_.add(static_cast<int64_t>(n));
    wake_.notify_one();
}

void Dispatcher::takeInbox() {
    for (auto& batch : inbox_) {
        for (auto& item : batch) {
            auto [it, inserted] = queues_.try_emplace(item.queueKey);
            Queue& q = it->second;
            if (!q.scheduled) {
                q.scheduled = true;
                ready_.push_back(item.queueKey);
            }
            q.items.push_back(std::move(item));
        }
    }
    inbox_.clear();
}

void Dispatcher::stop(std::chrono::milliseconds drainFor) {
    {
        std::unique_lock lock(mutex_);
        if (workers_.empty()) return;
        drained_.wait_for(lock, drainFor, [&] { return backlog_.load() == 0; });
        stopping_ = true;
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
}

void Dispatcher::reserveTurn(Turn& mine) {
    // One room, and more while their estimated handling time stays within a turn.
    const auto perItem = std::max<int64_t>(itemCostNs_.load(std::memory_order_relaxed), 1);
    const size_t budget = std::clamp<size_t>(static_cast<size_t>(kTurnTarget.count() / perItem), 1,
                                             kMaxTurnItems);
    size_t reserved = 0;
    do {
        reserved += std::min(queues_[ready_.front()].items.size(), kRoomTurnSize);
        mine.rooms.push_back(std::move(ready_.front()));
        ready_.pop_front();
    } while (!ready_.empty() && reserved < budget);
    // Rooms left over: an idle worker takes them (and wakes the next, if still more). Rooms
    // reserved beside the one starting now need a watcher, in case this worker gets stuck.
    if (idle_ > 0 && (!ready_.empty() || (mine.rooms.size() > 1 && !watching_))) wake_.notify_one();
}

bool Dispatcher::stealStalled(Turn& mine, std::chrono::steady_clock::time_point now) {
    bool stole = false;
    for (auto& other : turns_) {
        if (other.get() == &mine || other->rooms.empty() || now - other->sliceStarted < kStall) continue;
        for (auto& key : other->rooms) mine.rooms.push_back(std::move(key));
        other->rooms.clear();
        stole = true;
    }
    return stole;
}

void Dispatcher::handOver(std::unique_lock<std::mutex>& lock, std::vector<Completion>& completions) {
    lock.unlock();
    onDone_(std::move(completions));
    completions.clear();
    lock.lock();
}

void Dispatcher::work(Turn& mine) {
    std::vector<DispatchItem> slice;
    std::vector<Completion> completions;  // of this turn, handed over when it ends
    std::unique_lock lock(mutex_);
    for (;;) {
        auto now = std::chrono::steady_clock::now();
        while (!delayed_.empty() && delayed_.begin()->first <= now) {
            ready_.push_back(std::move(delayed_.begin()->second));
            delayed_.erase(delayed_.begin());
        }
        if (stopping_) {
            if (!completions.empty()) handOver(lock, completions);
            return;
        }
        if (!inbox_.empty()) takeInbox();
        if (mine.rooms.empty()) {
            if (!completions.empty()) {
                handOver(lock, completions);  // the turn is over
                continue;
            }
            if (!ready_.empty()) {
                reserveTurn(mine);
            } else if (!stealStalled(mine, now)) {
                // While others work, one idle worker keeps watch: every kStall it looks for
                // a turn whose worker is stuck in a handler, and takes its reserved rooms.
                const bool watch = !watching_ && idle_ + 1 < workerCount_;
                if (watch) watching_ = true;
                auto until = std::chrono::steady_clock::time_point::max();
                if (!delayed_.empty()) until = delayed_.begin()->first;
                if (watch) until = std::min(until, now + kStall);
                ++idle_;
                if (until == std::chrono::steady_clock::time_point::max()) wake_.wait(lock);
                else wake_.wait_until(lock, until);
                --idle_;
                if (watch) watching_ = false;
                continue;
            }
        }

        std::string key = std::move(mine.rooms.front());
        mine.rooms.pop_front();
        Queue& queue = queues_[key];
        while (!queue.items.empty() && slice.size() < kRoomTurnSize) {
            slice.push_back(std::move(queue.items.front()));
            queue.items.pop_front();
        }
        mine.sliceStarted = now;
        lock.unlock();

        size_t done = 0;
        std::chrono::milliseconds retryAfter{-1};
        for (; done < slice.size(); ++done) {
            DispatchItem& item = slice[done];
            HandleResult result = handler_(item);
            if (result.retry) {
                ++item.attempts;
                retries_.inc();
                retryAfter = result.retryAfter;
                break;
            }
            if (showWrites_ && !result.writes.empty()) showWrites_(result.writes);
            completions.push_back(Completion{item.queueKey, item.pos, item.txnSeq,
                                             std::move(result.writes), std::move(result.ops)});
        }
        auto finished = std::chrono::steady_clock::now();
        int64_t perItem = std::chrono::duration_cast<std::chrono::nanoseconds>(finished - now).count() /
                          static_cast<int64_t>(std::min(done + 1, slice.size()));
        int64_t old = itemCostNs_.load(std::memory_order_relaxed);
        itemCostNs_.store(old + (perItem - old) / 4, std::memory_order_relaxed);
        backlogGauge_.add(-static_cast<int64_t>(done));

        lock.lock();
        Queue& q = queues_[key];  // rehashing may have moved it while unlocked
        if (done < slice.size()) {
            // Put the unfinished part back in front, in order, and pause this queue.
            for (size_t i = slice.size(); i > done; --i) q.items.push_front(std::move(slice[i - 1]));
            delayed_.emplace(finished + retryAfter, std::move(key));
        } else if (!q.items.empty()) {
            ready_.push_back(std::move(key));
        } else {
            queues_.erase(key);
        }
        slice.clear();
        if (backlog_.fetch_sub(done, std::memory_order_relaxed) == done) drained_.notify_all();
    }
}

}  // namespace mxbridge::detail
