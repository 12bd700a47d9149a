// Timers that fire only when a test says time has passed: BridgeContext::every()/after() and
// the kit's deferred answers run inside advance(), on the test's thread, in time order. No
// sleeps, no timer thread, so a connector's time-based rules are tested deterministically.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "mxbridge/connector.h"

namespace mxbridge::testing {

class ManualClock {
public:
    using Duration = std::chrono::milliseconds;

    ManualClock() = default;
    ManualClock(const ManualClock&) = delete;
    ManualClock& operator=(const ManualClock&) = delete;

    // Like BridgeContext's: runs `task` every `interval` (first after one interval) or once
    // after `delay`, until the handle is destroyed or cancelled.
    TimerHandle every(Duration interval, std::function<void()> task);
    TimerHandle after(Duration delay, std::function<void()> task);
    // Runs `task` at the current time on the next advance(), with no handle: how the kit's
    // intents answer createRoom/uploadMedia "later", as the real outbox does.
    void post(std::function<void()> task);

    // Moves time forward by `by`, running every task that falls due on the way, earliest
    // first (ties in the order they were scheduled); a repeating timer fires once per elapsed
    // interval. Tasks may schedule or cancel timers; those due within `by` run too. Returns
    // how many tasks ran. advance(0ms) runs what is already due (posted answers included).
    size_t advance(Duration by);
    size_t runDue() { return advance(Duration(0)); }

    // Time since the clock was made.
    Duration now() const;
    // Timers still scheduled (cancelled ones excluded).
    size_t pending() const;

private:
    struct Timer {
        Duration due;
        Duration interval;  // zero: fires once
        uint64_t order;
        std::function<void()> task;
        std::shared_ptr<std::atomic<bool>> cancelled;
    };
    TimerHandle schedule(Duration delay, Duration interval, std::function<void()> task);
    // The earliest live timer due at or before `limit`, removed from the queue.
    bool takeDue(Duration limit, Timer& out);

    mutable std::mutex mutex_;
    Duration now_{0};
    uint64_t nextOrder_ = 0;
    std::vector<Timer> timers_;
};

}  // namespace mxbridge::testing
