// Reconnect back-off: doubling, capped, jittered downwards only, reset by a success.
#include <doctest/doctest.h>

#include "mxbridge/xmpp/reconnect_delay.h"

using namespace mxbridge::xmpp;
using namespace std::chrono_literals;

TEST_CASE("waits double up to the cap and start over after a success") {
    ReconnectDelay delay({.initial = 100ms, .max = 1000ms, .jitter = 0.0});
    CHECK(delay.next() == 100ms);
    CHECK(delay.next() == 200ms);
    CHECK(delay.next() == 400ms);
    CHECK(delay.next() == 800ms);
    CHECK(delay.next() == 1000ms);
    for (int i = 0; i < 100; ++i) CHECK(delay.next() == 1000ms);  // no overflow past the cap
    CHECK(delay.failures() == 105);
    delay.reset();
    CHECK(delay.next() == 100ms);
}

TEST_CASE("jitter only shortens a wait, by at most its share") {
    ReconnectDelay delay({.initial = 1000ms, .max = 1000ms, .jitter = 0.3});
    bool varied = false;
    auto first = delay.next();
    for (int i = 0; i < 200; ++i) {
        auto d = delay.next();
        CHECK(d >= 700ms);
        CHECK(d <= 1000ms);
        varied = varied || d != first;
    }
    CHECK(varied);
}
