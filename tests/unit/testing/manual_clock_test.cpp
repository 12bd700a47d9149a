// ManualClock: timers fire only inside advance(), in time order, and stop with their handle.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "mxbridge/testing/manual_clock.h"

using namespace mxbridge;
using namespace mxbridge::testing;
using namespace std::chrono_literals;

TEST_CASE("a timer fires only when the test advances the clock past its delay") {
    ManualClock clock;
    int fired = 0;
    TimerHandle once = clock.after(100ms, [&] { ++fired; });
    CHECK(clock.advance(99ms) == 0);
    CHECK(fired == 0);
    CHECK(clock.advance(1ms) == 1);
    CHECK(fired == 1);
    CHECK(clock.advance(1000ms) == 0);
    CHECK(fired == 1);
    CHECK(clock.now() == 1100ms);
}

TEST_CASE("a repeating timer fires once per elapsed interval, interleaved in time order") {
    ManualClock clock;
    std::vector<std::string> order;
    TimerHandle tick = clock.every(10ms, [&] { order.push_back("tick@" + std::to_string(clock.now().count())); });
    TimerHandle once = clock.after(25ms, [&] { order.push_back("once@" + std::to_string(clock.now().count())); });
    CHECK(clock.advance(35ms) == 4);
    CHECK(order == std::vector<std::string>{"tick@10", "tick@20", "once@25", "tick@30"});
}

TEST_CASE("a cancelled or dropped handle stops its timer, also from inside another timer") {
    ManualClock clock;
    int a = 0, b = 0;
    TimerHandle first = clock.every(10ms, [&] { ++a; });
    TimerHandle second;
    second = clock.every(10ms, [&] {
        ++b;
        first.cancel();
    });
    clock.advance(10ms);  // first runs before second (scheduled first), then second cancels it
    clock.advance(50ms);
    CHECK(a == 1);
    CHECK(b == 6);
    second = TimerHandle();
    CHECK(clock.pending() == 0);
    clock.advance(50ms);
    CHECK(b == 6);
}

TEST_CASE("a task scheduled by a timer runs in the same advance when it falls due within it") {
    ManualClock clock;
    std::vector<int> when;
    TimerHandle inner;
    TimerHandle outer = clock.after(10ms, [&] {
        inner = clock.after(5ms, [&] { when.push_back(static_cast<int>(clock.now().count())); });
    });
    clock.advance(20ms);
    CHECK(when == std::vector<int>{15});
}

TEST_CASE("a posted task runs on the next advance, even one of zero") {
    ManualClock clock;
    bool ran = false;
    clock.post([&] { ran = true; });
    CHECK_FALSE(ran);
    CHECK(clock.runDue() == 1);
    CHECK(ran);
}

TEST_CASE("a handle that outlives its clock cancels nothing and does not crash") {
    TimerHandle handle;
    {
        ManualClock clock;
        handle = clock.every(1ms, [] {});
    }
    handle.cancel();
    CHECK(true);
}
