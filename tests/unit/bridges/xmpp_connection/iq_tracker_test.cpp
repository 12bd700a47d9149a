// The IQ tracker: answers matched by id and sender, deadlines, and disconnection.
#include <doctest/doctest.h>

#include <vector>

#include "mxbridge/xmpp/iq_tracker.h"
#include "mxbridge/xmpp/namespaces.h"

using namespace mxbridge::xmpp;
using namespace std::chrono_literals;
using Clock = IqTracker::Clock;

namespace {

Element answer(std::string_view type, std::string_view id, std::string_view from) {
    Element iq("iq", std::string(ns::kComponentAccept));
    iq.setAttr("type", std::string(type)).setAttr("id", std::string(id)).setAttr("from", std::string(from));
    if (type == "error") {
        Element& e = iq.addChild("error", std::string(ns::kComponentAccept));
        e.setAttr("type", "cancel");
        e.addChild("item-not-found", std::string(ns::kStanzaErrors));
    }
    return iq;
}

struct Recorder {
    std::vector<IqResponse> responses;
    IqCallback callback() {
        return [this](const IqResponse& r) { responses.push_back(r); };
    }
};

}  // namespace

TEST_CASE("a result from the addressee answers the request once") {
    IqTracker tracker;
    Recorder r;
    auto now = Clock::now();
    REQUIRE(tracker.add("1", "localhost", now + 5s, r.callback()));
    CHECK_FALSE(tracker.add("1", "localhost", now + 5s, r.callback()));  // already waiting
    CHECK(tracker.pending() == 1);
    CHECK(tracker.handle(answer("result", "1", "LocalHost")));  // domains compare without case
    REQUIRE(r.responses.size() == 1);
    CHECK(r.responses[0].outcome == IqOutcome::Result);
    CHECK(r.responses[0].stanza.attr("id") == "1");
    CHECK_FALSE(tracker.handle(answer("result", "1", "localhost")));  // only once
    CHECK(tracker.pending() == 0);
}

TEST_CASE("an answer from anyone else, or that is no answer, is not taken") {
    IqTracker tracker;
    Recorder r;
    tracker.add("2", "juliet@example.com/balcony", Clock::now() + 5s, r.callback());
    CHECK_FALSE(tracker.handle(answer("result", "2", "mallory@example.com")));
    CHECK_FALSE(tracker.handle(answer("result", "2", "juliet@example.com")));  // bare for full
    Element get = answer("result", "2", "juliet@example.com/balcony");
    get.setAttr("type", "get");
    CHECK_FALSE(tracker.handle(get));
    CHECK(r.responses.empty());
    CHECK(tracker.handle(answer("error", "2", "juliet@example.com/balcony")));
    REQUIRE(r.responses.size() == 1);
    CHECK(r.responses[0].outcome == IqOutcome::Error);
    CHECK(r.responses[0].error.condition == "item-not-found");
}

TEST_CASE("deadlines expire in their own time, and the next one is known") {
    IqTracker tracker;
    Recorder r;
    auto now = Clock::now();
    tracker.add("late", "a.example", now + 10s, r.callback());
    tracker.add("soon", "a.example", now + 1s, r.callback());
    CHECK(tracker.nextDeadline() == now + 1s);
    tracker.expire(now + 500ms);
    CHECK(r.responses.empty());
    tracker.expire(now + 1s);
    REQUIRE(r.responses.size() == 1);
    CHECK(r.responses[0].outcome == IqOutcome::Timeout);
    CHECK(r.responses[0].error.condition == "remote-server-timeout");
    CHECK(tracker.nextDeadline() == now + 10s);
    CHECK(tracker.waitingFor("late"));
}

TEST_CASE("on disconnection every waiting request is told, and callbacks may send again") {
    IqTracker tracker;
    std::vector<IqOutcome> outcomes;
    auto now = Clock::now();
    for (const char* id : {"a", "b", "c"})
        tracker.add(id, "x.example", now + 5s, [&](const IqResponse& r) {
            outcomes.push_back(r.outcome);
            tracker.add("retry", "x.example", now + 5s, {});  // re-entrant add
        });
    tracker.failAll(IqOutcome::Disconnected, "connection lost");
    CHECK(outcomes == std::vector<IqOutcome>(3, IqOutcome::Disconnected));
    CHECK(tracker.pending() == 1);
    CHECK(tracker.waitingFor("retry"));
    tracker.forget("retry");
    CHECK(tracker.pending() == 0);
}
