// Backoff: the waits every retry loop in mxbridge uses (hooks, the outbox, IRC reconnects).
#include <doctest/doctest.h>

#include <chrono>

#include "mxbridge/backoff.h"

using namespace mxbridge;
using namespace std::chrono_literals;

TEST_CASE("without jitter each failure doubles the wait until the cap") {
    Backoff backoff({.initial = 1'000ms, .max = 10'000ms, .jitter = 0.0});
    CHECK(backoff.next() == 1'000ms);
    CHECK(backoff.next() == 2'000ms);
    CHECK(backoff.next() == 4'000ms);
    CHECK(backoff.next() == 8'000ms);
    CHECK(backoff.next() == 10'000ms);
    CHECK(backoff.next() == 10'000ms);
    CHECK(backoff.failures() == 6);
}

TEST_CASE("the wait stays at the cap however long the failures go on") {
    Backoff backoff({.initial = 2'000ms, .max = 300'000ms, .jitter = 0.0});
    for (int i = 0; i < 1'000; ++i) backoff.next();
    CHECK(backoff.next() == 300'000ms);
    CHECK(Backoff::delayAfter(backoff.options(), UINT32_MAX) == 300'000ms);
}

TEST_CASE("another factor grows the wait by that factor") {
    BackoffOptions tripling{.initial = 100ms, .max = 1'000ms, .factor = 3.0, .jitter = 0.0};
    CHECK(Backoff::delayAfter(tripling, 0) == 100ms);
    CHECK(Backoff::delayAfter(tripling, 1) == 300ms);
    CHECK(Backoff::delayAfter(tripling, 2) == 900ms);
    CHECK(Backoff::delayAfter(tripling, 3) == 1'000ms);
}

TEST_CASE("jitter draws each wait from [d * (1 - jitter), d] and does spread them") {
    BackoffOptions options{.initial = 1'000ms, .max = 60'000ms, .jitter = 0.3};
    for (uint32_t failures : {0u, 3u, 20u}) {
        const auto d = std::min<std::chrono::milliseconds>(1'000ms * (1 << std::min(failures, 10u)), 60'000ms);
        std::chrono::milliseconds lowest = d, highest{0};
        for (int i = 0; i < 2'000; ++i) {
            auto wait = Backoff::delayAfter(options, failures);
            CHECK(wait >= d * 7 / 10);
            CHECK(wait <= d);
            lowest = std::min(lowest, wait);
            highest = std::max(highest, wait);
        }
        // 2,000 draws over a 300 ms (or wider) range: both ends are approached.
        CHECK(lowest < d * 75 / 100);
        CHECK(highest > d * 95 / 100);
    }
}

TEST_CASE("full jitter may wait anywhere down to zero, none waits exactly the computed delay") {
    BackoffOptions full{.initial = 1'000ms, .max = 1'000ms, .jitter = 1.0};
    BackoffOptions none{.initial = 1'000ms, .max = 1'000ms, .jitter = 0.0};
    for (int i = 0; i < 500; ++i) {
        auto wait = Backoff::delayAfter(full, 0);
        CHECK(wait >= 0ms);
        CHECK(wait <= 1'000ms);
        CHECK(Backoff::delayAfter(none, 0) == 1'000ms);
    }
}

TEST_CASE("a success resets the waits to the initial one") {
    Backoff backoff({.initial = 500ms, .max = 60'000ms, .jitter = 0.0});
    backoff.next();
    backoff.next();
    CHECK(backoff.next() == 2'000ms);
    backoff.reset();
    CHECK(backoff.failures() == 0);
    CHECK(backoff.next() == 500ms);
}

TEST_CASE("delayAfter gives what the n-th next() gives, for callers that count themselves") {
    BackoffOptions options{.initial = 250ms, .max = 60'000ms, .jitter = 0.0};
    Backoff backoff(options);
    for (uint32_t failures = 0; failures < 12; ++failures)
        CHECK(Backoff::delayAfter(options, failures) == backoff.next());
}

TEST_CASE("the outbox's and the hook retry's windows are what they were before Backoff") {
    // The outbox: 250 ms doubling to 60 s, anywhere in [d/2, d].
    BackoffOptions outbox{.initial = 250ms, .max = 60'000ms, .jitter = 0.5};
    for (int i = 0; i < 200; ++i) {
        auto first = Backoff::delayAfter(outbox, 0);
        CHECK(first >= 125ms);
        CHECK(first <= 250ms);
    }
    // A retried hook: 250-375 ms, then 500-750 ms, ... up to 32-48 s.
    BackoffOptions hook{.initial = 375ms, .max = 48'000ms, .jitter = 1.0 / 3.0};
    for (int i = 0; i < 200; ++i) {
        auto first = Backoff::delayAfter(hook, 0);
        CHECK(first >= 250ms);
        CHECK(first <= 375ms);
        auto last = Backoff::delayAfter(hook, 9);
        CHECK(last >= 32'000ms);
        CHECK(last <= 48'000ms);
    }
}
