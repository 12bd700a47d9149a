// EchoMatcher: a bridge's own sends known when they come back, and senders told when not.
#include <doctest/doctest.h>

#include <mxbridge/echo_matcher.h>
#include <mxbridge/testing/fake_bridge_context.h>

using namespace mxbridge;
using namespace std::chrono_literals;

namespace {

using Matcher = EchoMatcher<std::string>;
const Matcher::Clock::time_point t0{};

EchoOrigin origin(const std::string& event) { return EchoOrigin{RoomId("!r:hs.test"), EventId(event)}; }

}  // namespace

TEST_CASE("an echo is matched once, with what was sent, and a stranger's line is not ours") {
    Matcher matcher({.timeout = 60s, .capacity = 10});
    matcher.expect("id-1", origin("$one"), "hello", t0);
    CHECK(matcher.waitingFor("id-1"));
    CHECK_FALSE(matcher.match("someone-else"));
    auto sent = matcher.match("id-1");
    REQUIRE(sent);
    CHECK(sent->origin.event == EventId("$one"));
    CHECK(sent->payload == "hello");
    CHECK_FALSE(matcher.match("id-1"));  // a second echo (a resend by the server) is not bridged as new
    CHECK(matcher.size() == 0);
}

TEST_CASE("sends whose echo does not come in time are given up, oldest first, and a late echo then matches nothing") {
    Matcher matcher({.timeout = 60s, .capacity = 10});
    matcher.expect("a", origin("$a"), {}, t0);
    matcher.expect("b", origin("$b"), {}, t0 + 10s);
    matcher.expect("c", origin("$c"), {}, t0 + 20s);
    CHECK(matcher.match("b"));
    CHECK(matcher.expire(t0 + 59s).empty());
    auto expired = matcher.expire(t0 + 80s);
    REQUIRE(expired.size() == 2);
    CHECK(expired[0].key == "a");
    CHECK(expired[1].key == "c");
    CHECK_FALSE(matcher.match("a"));
    CHECK(matcher.size() == 0);
}

TEST_CASE("the same key sent again waits anew: its earlier deadline does not expire it") {
    Matcher matcher({.timeout = 60s, .capacity = 10});
    matcher.expect("k", origin("$first"), {}, t0);
    matcher.expect("k", origin("$again"), {}, t0 + 50s);
    CHECK(matcher.expire(t0 + 70s).empty());
    auto sent = matcher.match("k");
    REQUIRE(sent);
    CHECK(sent->origin.event == EventId("$again"));
}

TEST_CASE("past its capacity the oldest wait is given up early and reported, never dropped silently") {
    Matcher matcher({.timeout = 60s, .capacity = 2});
    matcher.expect("1", origin("$1"), {}, t0);
    matcher.expect("2", origin("$2"), {}, t0);
    matcher.expect("3", origin("$3"), {}, t0);
    CHECK(matcher.size() == 2);
    auto given = matcher.expire(t0);
    REQUIRE(given.size() == 1);
    CHECK(given[0].key == "1");
    CHECK(matcher.waitingFor("2"));
    CHECK(matcher.waitingFor("3"));
}

TEST_CASE("expireAndReport tells each sender through the framework, once") {
    testing::FakeBridgeContext ctx;
    Matcher matcher({.timeout = 1s, .capacity = 10});
    matcher.expect("x", origin("$x"), {}, t0);
    matcher.expect("typing", EchoOrigin{}, {}, t0);  // no event of its own: nobody to tell
    CHECK(matcher.expireAndReport(ctx, "the room did not confirm it", t0 + 2s).size() == 2);
    CHECK(matcher.expireAndReport(ctx, "the room did not confirm it", t0 + 3s).empty());
    auto failures = ctx.deliveryFailures();
    REQUIRE(failures.size() == 1);
    CHECK(failures[0].event == EventId("$x"));
    CHECK(failures[0].error.message.find("the room did not confirm it") != std::string::npos);
    CHECK_FALSE(failures[0].error.retryable);
}

TEST_CASE("echoes coming back in order keep the matcher small without any expire call") {
    Matcher matcher({.timeout = 60s, .capacity = 100});
    for (int i = 0; i < 10'000; ++i) {
        matcher.expect(std::to_string(i), origin("$" + std::to_string(i)), {}, t0);
        CHECK(matcher.match(std::to_string(i)));
    }
    CHECK(matcher.size() == 0);
    CHECK(matcher.expire(t0 + 1h).empty());
}
