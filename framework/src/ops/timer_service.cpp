#include "ops/timer_service.h"
#include "util/thread_name.h"

#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

namespace mxbridge::detail {

using Clock = std::chrono::steady_clock;

struct TimerService::State {
    struct Timer {
        Clock::time_point due;
        std::chrono::milliseconds interval{0};  // 0: runs once
        std::shared_ptr<std::function<void()>> task;
    };

    std::mutex mutex;
    std::condition_variable wake;      // the timer thread: new earliest timer, or stop
    std::condition_variable finished;  // cancellers waiting for a run to end
    std::map<uint64_t, Timer> timers;
    std::multimap<Clock::time_point, uint64_t> queue;  // may hold stale entries; checked on pop
    uint64_t nextId = 1;
    uint64_t running = 0;  // id of the task running now, 0 when none
    bool stopping = false;
    std::thread thread;
    std::thread::id threadId;
    Logger log{"timers"};

    void cancel(uint64_t id) {
        std::unique_lock lock(mutex);
        timers.erase(id);
        // Inside the task itself (or on the timer thread) waiting would deadlock; there the
        // erase is enough, the run in progress just finishes.
        if (std::this_thread::get_id() == threadId) return;
        finished.wait(lock, [&] { return running != id; });
    }

    void run() {
        std::unique_lock lock(mutex);
        while (!stopping) {
            if (queue.empty()) {
                wake.wait(lock);
                continue;
            }
            auto [due, id] = *queue.begin();
            auto it = timers.find(id);
            if (it == timers.end() || it->second.due != due) {
                queue.erase(queue.begin());  // cancelled or rescheduled
                continue;
            }
            if (Clock::now() < due) {
                wake.wait_until(lock, due);
                continue;
            }
            queue.erase(queue.begin());
            auto task = it->second.task;
            auto interval = it->second.interval;
            if (interval.count() == 0) timers.erase(it);
            running = id;
            lock.unlock();
            try {
                (*task)();
            } catch (const std::exception& e) {
                log.error("timer task threw; it keeps its schedule", {{"timer", id}, {"error", e.what()}});
            } catch (...) {
                log.error("timer task threw a non-exception; it keeps its schedule", {{"timer", id}});
            }
            lock.lock();
            running = 0;
            finished.notify_all();
            if (interval.count() > 0) {
                auto again = timers.find(id);
                if (again != timers.end()) {
                    auto now = Clock::now();
                    Clock::time_point next = due + interval;
                    if (next <= now) next = now + interval;  // overran: skip the missed beats
                    again->second.due = next;
                    queue.emplace(next, id);
                }
            }
        }
    }
};

TimerService::TimerService() : state_(std::make_shared<State>()) {
    // The thread shares the state, so stop() from inside a task can let it finish detached.
    state_->thread = std::thread([s = state_] {
        nameThisThread("mxb-timers");
        s->run();
    });
    state_->threadId = state_->thread.get_id();
}

TimerService::~TimerService() { stop(); }

void TimerService::stop() {
    {
        std::lock_guard lock(state_->mutex);
        state_->stopping = true;
        state_->timers.clear();
        state_->queue.clear();
    }
    state_->wake.notify_all();
    if (!state_->thread.joinable()) return;
    if (std::this_thread::get_id() == state_->threadId) state_->thread.detach();
    else state_->thread.join();
}

TimerHandle TimerService::every(std::chrono::milliseconds interval, std::function<void()> task) {
    if (interval.count() <= 0) throw std::invalid_argument("every(): the interval must be positive");
    return schedule(interval, interval, std::move(task));
}

TimerHandle TimerService::after(std::chrono::milliseconds delay, std::function<void()> task) {
    return schedule(std::max(delay, std::chrono::milliseconds(0)), std::chrono::milliseconds(0),
                    std::move(task));
}

TimerHandle TimerService::schedule(std::chrono::milliseconds delay, std::chrono::milliseconds interval,
                                   std::function<void()> task) {
    uint64_t id;
    {
        std::lock_guard lock(state_->mutex);
        if (state_->stopping) return TimerHandle();
        id = state_->nextId++;
        auto due = Clock::now() + delay;
        state_->timers[id] = State::Timer{due, interval,
                                          std::make_shared<std::function<void()>>(std::move(task))};
        state_->queue.emplace(due, id);
    }
    state_->wake.notify_all();
    std::weak_ptr<State> weak = state_;
    return TimerHandle([weak, id] {
        if (auto s = weak.lock()) s->cancel(id);
    });
}

}  // namespace mxbridge::detail
