// The event inbox: each event_id bridged once, nothing lost across a restart, bounded.
#include <doctest/doctest.h>

#include "event_inbox.h"
#include "mxbridge/testing/memory_stores.h"

using namespace mxbridge;
using namespace mxbridge::slack;
using namespace std::chrono_literals;

namespace {

const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));

EventCallback message(const std::string& eventId, const std::string& text) {
    return EventCallback{.eventId = eventId,
                         .teamId = "T0TEAM001",
                         .apiAppId = "A0APP0001",
                         .eventTime = 1700000000,
                         .eventType = "message",
                         .event = {{"type", "message"}, {"channel", "C0CHAN001"}, {"text", text}}};
}

// What a worker would bridge, in order, marking each as it goes.
std::vector<std::string> drain(EventInbox& inbox, std::chrono::system_clock::time_point now = kNow) {
    std::vector<std::string> texts;
    while (auto next = inbox.nextPending()) {
        texts.push_back(next->event.at("text"));
        inbox.markBridged(next->eventId, now);
    }
    return texts;
}

}  // namespace

TEST_CASE("a redelivered event is admitted once and bridged once") {
    testing::MemoryKvStore store;
    EventInbox inbox(store);
    CHECK(inbox.admit(message("Ev1", "hi"), kNow) == EventInbox::Admission::Accepted);
    CHECK(inbox.admit(message("Ev1", "hi"), kNow + 3s) == EventInbox::Admission::Duplicate);
    CHECK(drain(inbox) == std::vector<std::string>{"hi"});
    CHECK(inbox.admit(message("Ev1", "hi"), kNow + 5min) == EventInbox::Admission::Duplicate);
    CHECK(drain(inbox).empty());
}

TEST_CASE("events stored but not bridged before a restart are bridged after it, in arrival order") {
    testing::MemoryKvStore store;
    {
        EventInbox inbox(store);
        for (int i = 1; i <= 12; ++i)
            CHECK(inbox.admit(message("Ev" + std::to_string(i), "m" + std::to_string(i)), kNow) ==
                  EventInbox::Admission::Accepted);
        auto first = inbox.nextPending();
        inbox.markBridged(first->eventId, kNow);  // then the process dies
    }
    EventInbox restarted(store);
    CHECK(restarted.pendingCount() == 11);
    std::vector<std::string> expected;
    for (int i = 2; i <= 12; ++i) expected.push_back("m" + std::to_string(i));
    CHECK(drain(restarted) == expected);
}

TEST_CASE("a redelivery after a restart is still recognised") {
    testing::MemoryKvStore store;
    {
        EventInbox inbox(store);
        (void)inbox.admit(message("Ev7", "once"), kNow);
        drain(inbox);
    }
    EventInbox restarted(store);
    CHECK(restarted.admit(message("Ev7", "once"), kNow + 1min) == EventInbox::Admission::Duplicate);
    CHECK(drain(restarted).empty());
}

TEST_CASE("bridged ids are forgotten after the retention, and the store with them") {
    testing::MemoryKvStore store;
    EventInbox inbox(store, EventInboxOptions{.rememberFor = 1h});
    (void)inbox.admit(message("EvOld", "old"), kNow);
    drain(inbox, kNow);
    (void)inbox.admit(message("EvNew", "new"), kNow + 2h);
    drain(inbox, kNow + 2h);
    CHECK(inbox.rememberedCount() == 1);
    CHECK(store.all().count("slack/event/EvOld") == 0);
    CHECK(store.all().count("slack/event/EvNew") == 1);
}

TEST_CASE("past the pending limit deliveries are refused, not dropped, and accepted again once room is made") {
    testing::MemoryKvStore store;
    EventInboxOptions options;
    options.maxPending = 2;
    EventInbox inbox(store, options);
    CHECK(inbox.admit(message("Ev1", "a"), kNow) == EventInbox::Admission::Accepted);
    CHECK(inbox.admit(message("Ev2", "b"), kNow) == EventInbox::Admission::Accepted);
    CHECK(inbox.admit(message("Ev3", "c"), kNow) == EventInbox::Admission::Full);
    auto next = inbox.nextPending();
    inbox.markBridged(next->eventId, kNow);
    CHECK(inbox.admit(message("Ev3", "c"), kNow) == EventInbox::Admission::Accepted);
    CHECK(drain(inbox) == std::vector<std::string>{"b", "c"});
}

TEST_CASE("an unreadable store entry is skipped and the rest still load") {
    testing::MemoryKvStore store;
    store.put("slack/event/EvBroken", "{not json");
    {
        EventInbox inbox(store);
        (void)inbox.admit(message("EvGood", "kept"), kNow);
    }
    EventInbox restarted(store);
    CHECK(drain(restarted) == std::vector<std::string>{"kept"});
}
