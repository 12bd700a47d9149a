// ManualClock: a time-ordered list of timers, run by the test's own advance() calls.
#include "mxbridge/testing/manual_clock.h"

#include <algorithm>

namespace mxbridge::testing {

TimerHandle ManualClock::every(Duration interval, std::function<void()> task) {
    // A zero interval would fire forever inside one advance().
    return schedule(std::max(interval, Duration(1)), std::max(interval, Duration(1)), std::move(task));
}

TimerHandle ManualClock::after(Duration delay, std::function<void()> task) {
    return schedule(std::max(delay, Duration(0)), Duration(0), std::move(task));
}

void ManualClock::post(std::function<void()> task) {
    std::lock_guard lock(mutex_);
    timers_.push_back(Timer{.due = now_, .interval = Duration(0), .order = nextOrder_++,
                            .task = std::move(task), .cancelled = std::make_shared<std::atomic<bool>>(false)});
}

TimerHandle ManualClock::schedule(Duration delay, Duration interval, std::function<void()> task) {
    auto cancelled = std::make_shared<std::atomic<bool>>(false);
    {
        std::lock_guard lock(mutex_);
        timers_.push_back(Timer{.due = now_ + delay, .interval = interval, .order = nextOrder_++,
                                .task = std::move(task), .cancelled = cancelled});
    }
    // The handle touches only the flag, so it may outlive the clock.
    return TimerHandle([cancelled] { *cancelled = true; });
}

bool ManualClock::takeDue(Duration limit, Timer& out) {
    std::lock_guard lock(mutex_);
    std::erase_if(timers_, [](const Timer& t) { return t.cancelled->load(); });
    auto next = std::min_element(timers_.begin(), timers_.end(), [](const Timer& a, const Timer& b) {
        return a.due != b.due ? a.due < b.due : a.order < b.order;
    });
    if (next == timers_.end() || next->due > limit) return false;
    out = std::move(*next);
    timers_.erase(next);
    now_ = std::max(now_, out.due);
    return true;
}

size_t ManualClock::advance(Duration by) {
    Duration limit;
    {
        std::lock_guard lock(mutex_);
        limit = now_ + std::max(by, Duration(0));
    }
    size_t ran = 0;
    Timer timer;
    while (takeDue(limit, timer)) {
        // The task runs without the lock: it may schedule, cancel or post.
        timer.task();
        ++ran;
        std::lock_guard lock(mutex_);
        if (timer.interval > Duration(0) && !*timer.cancelled) {
            timers_.push_back(Timer{.due = timer.due + timer.interval, .interval = timer.interval,
                                    .order = nextOrder_++, .task = std::move(timer.task),
                                    .cancelled = timer.cancelled});
        }
    }
    std::lock_guard lock(mutex_);
    now_ = limit;
    return ran;
}

ManualClock::Duration ManualClock::now() const {
    std::lock_guard lock(mutex_);
    return now_;
}

size_t ManualClock::pending() const {
    std::lock_guard lock(mutex_);
    return static_cast<size_t>(std::count_if(timers_.begin(), timers_.end(),
                                             [](const Timer& t) { return !t.cancelled->load(); }));
}

}  // namespace mxbridge::testing
