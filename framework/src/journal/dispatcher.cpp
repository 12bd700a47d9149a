#include "journal/dispatcher.h"
#include "util/thread_name.h"

namespace mxbridge::detail {

namespace {
// Items a worker takes from one queue before letting other rooms have a turn.
constexpr size_t kTurnSize = 64;
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
    for (unsigned i = 0; i < workerCount_; ++i) {
        workers_.emplace_back([this] {
            nameThisThread("mxb-dispatch");
            work();
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

size_t Dispatcher::takeInbox() {
    size_t newlyReady = 0;
    for (auto& batch : inbox_) {
        for (auto& item : batch) {
            auto [it, inserted] = queues_.try_emplace(item.queueKey);
            Queue& q = it->second;
            if (!q.scheduled) {
                q.scheduled = true;
                ready_.push_back(item.queueKey);
                ++newlyReady;
            }
            q.items.push_back(std::move(item));
        }
    }
    inbox_.clear();
    return newlyReady;
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

void Dispatcher::work() {
    std::vector<DispatchItem> turn;
    turn.reserve(kTurnSize);
    std::unique_lock lock(mutex_);
    for (;;) {
        auto now = std::chrono::steady_clock::now();
        while (!delayed_.empty() && delayed_.begin()->first <= now) {
            ready_.push_back(std::move(delayed_.begin()->second));
            delayed_.erase(delayed_.begin());
        }
        if (stopping_) return;
        if (!inbox_.empty()) {
            // Wake only as many other workers as there are newly ready rooms beyond ours.
            size_t newlyReady = takeInbox();
            if (newlyReady > 1) {
                if (newlyReady - 1 >= workerCount_) wake_.notify_all();
                else for (size_t i = 1; i < newlyReady; ++i) wake_.notify_one();
            }
        }
        if (ready_.empty()) {
            if (delayed_.empty()) wake_.wait(lock);
            else wake_.wait_until(lock, delayed_.begin()->first);
            continue;
        }
        std::string key = std::move(ready_.front());
        ready_.pop_front();
        Queue& queue = queues_[key];
        while (!queue.items.empty() && turn.size() < kTurnSize) {
            turn.push_back(std::move(queue.items.front()));
            queue.items.pop_front();
        }
        lock.unlock();

        size_t done = 0;
        std::chrono::milliseconds retryAfter{-1};
        std::vector<Completion> completions;
        completions.reserve(turn.size());
        for (; done < turn.size(); ++done) {
            DispatchItem& item = turn[done];
            HandleResult result = handler_(item);
            if (result.retry) {
                ++item.attempts;
                retries_.inc();
                retryAfter = result.retryAfter;
                break;
            }
            if (showWrites_ && !result.writes.empty()) showWrites_(result.writes);
            completions.push_back(
                Completion{item.queueKey, item.pos, item.txnSeq, std::move(result.writes),
                           std::move(result.ops)});
        }
        // One hand-over per turn: each item's kv writes were shown above already.
        if (!completions.empty()) onDone_(std::move(completions));
        backlogGauge_.add(-static_cast<int64_t>(done));

        lock.lock();
        Queue& q = queues_[key];  // rehashing may have moved it while unlocked
        if (done < turn.size()) {
            // Put the unfinished part back in front, in order, and pause this queue.
            for (size_t i = turn.size(); i > done; --i) q.items.push_front(std::move(turn[i - 1]));
            delayed_.emplace(std::chrono::steady_clock::now() + retryAfter, key);
        } else if (!q.items.empty()) {
            ready_.push_back(key);
        } else {
            queues_.erase(key);
        }
        turn.clear();
        if (backlog_.fetch_sub(done, std::memory_order_relaxed) == done) drained_.notify_all();
    }
}

}  // namespace mxbridge::detail
