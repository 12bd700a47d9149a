// TimerService: every/after fire, cancel stops them (from any thread, or inside the task),
// a throwing task keeps its schedule.
#include <doctest/doctest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "ops/timer_service.h"

using namespace mxbridge;
using namespace mxbridge::detail;
using namespace std::chrono_literals;

namespace {

// Counts runs; wait(n) returns once there were n, or false after a deadline.
struct Runs {
    std::mutex mutex;
    std::condition_variable cv;
    int count = 0;
    void hit() {
        std::lock_guard lock(mutex);
        ++count;
        cv.notify_all();
    }
    bool wait(int n, std::chrono::milliseconds timeout = 5000ms) {
        std::unique_lock lock(mutex);
        return cv.wait_for(lock, timeout, [&] { return count >= n; });
    }
    int now() {
        std::lock_guard lock(mutex);
        return count;
    }
};

}  // namespace

TEST_CASE("after() runs once and every() keeps running") {
    TimerService timers;
    Runs once, repeated;
    TimerHandle a = timers.after(10ms, [&] { once.hit(); });
    TimerHandle b = timers.every(5ms, [&] { repeated.hit(); });
    CHECK(once.wait(1));
    CHECK(repeated.wait(4));
    b.cancel();
    CHECK(once.now() == 1);
}

TEST_CASE("a cancelled timer does not run, and cancel waits for a run in progress") {
    TimerService timers;
    Runs runs;
    TimerHandle never = timers.after(30ms, [&] { runs.hit(); });
    never.cancel();
    {
        TimerHandle dropped = timers.after(30ms, [&] { runs.hit(); });
    }  // the handle's destructor cancels

    std::atomic<bool> inTask{false}, taskDone{false};
    TimerHandle slow = timers.after(0ms, [&] {
        inTask = true;
        std::this_thread::sleep_for(50ms);
        taskDone = true;
    });
    while (!inTask) std::this_thread::yield();
    slow.cancel();
    CHECK(taskDone);  // cancel() returned only after the run finished

    // A marker timer later than the cancelled ones: once it ran, they would have too.
    Runs marker;
    TimerHandle m = timers.after(60ms, [&] { marker.hit(); });
    REQUIRE(marker.wait(1));
    CHECK(runs.now() == 0);
}

TEST_CASE("a task may cancel its own timer") {
    TimerService timers;
    Runs runs;
    TimerHandle handle;
    std::mutex handleMutex;
    {
        std::lock_guard lock(handleMutex);
        handle = timers.every(2ms, [&] {
            runs.hit();
            if (runs.now() == 3) {
                std::lock_guard l(handleMutex);
                handle.cancel();
            }
        });
    }
    REQUIRE(runs.wait(3));
    Runs marker;
    TimerHandle m = timers.after(30ms, [&] { marker.hit(); });
    REQUIRE(marker.wait(1));
    CHECK(runs.now() == 3);
}

TEST_CASE("a throwing task is caught and keeps its schedule; handles may outlive the service") {
    Runs runs;
    TimerHandle outlives;
    {
        TimerService timers;
        TimerHandle h = timers.every(2ms, [&] {
            runs.hit();
            throw std::runtime_error("boom");
        });
        CHECK(runs.wait(3));
        outlives = timers.every(1h, [] {});
    }
    CHECK_NOTHROW(outlives.cancel());
}
