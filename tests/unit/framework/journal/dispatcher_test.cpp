// Dispatcher: per-room order, rooms in parallel, retries that pause only their own room.
#include <doctest/doctest.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "journal/dispatcher.h"
#include "journal_rig.h"

using namespace mxbridge;
using namespace mxbridge::detail;
using namespace mxbridge::detail::testing;

namespace {

DispatchItem itemFor(const std::string& room, uint64_t pos, const std::string& id) {
    MatrixEvent::Fields fields;
    fields.type = "m.room.message";
    fields.roomId = room;
    fields.sender = "@s:x";
    fields.eventId = id;
    auto body = std::make_shared<const std::string>(event(id, room));
    return DispatchItem{room, pos, pos >> 24, MatrixEvent(EventSource::Timeline, body, *body, fields)};
}

}  // namespace

TEST_CASE("a handler that asks for a retry is called again later while other rooms go on") {
    Metrics metrics;
    std::mutex mutex;
    std::condition_variable cv;
    std::vector<std::string> order;       // successful handler calls
    std::map<std::string, uint32_t> attemptsSeen;
    std::vector<Completion> completions;
    int slowCalls = 0;
    auto handler = [&](DispatchItem& item) {
        std::lock_guard lock(mutex);
        HandleResult result;
        const std::string id = item.event.eventId().str();
        if (id == "$slow1" && slowCalls++ < 2) {
            result.retry = true;
            result.retryAfter = 30ms;
            result.writes.push_back(KvWrite{"never", std::string("x")});
            return result;
        }
        attemptsSeen[id] = item.attempts;
        order.push_back(id);
        result.writes.push_back(KvWrite{"k:" + id, std::string("1")});
        return result;
    };
    auto onDone = [&](std::vector<Completion>&& done) {
        std::lock_guard lock(mutex);
        for (auto& c : done) completions.push_back(std::move(c));
        cv.notify_all();
    };
    Dispatcher dispatcher(2, handler, onDone, metrics);
    dispatcher.start();
    std::vector<DispatchItem> items;
    items.push_back(itemFor("!slow", 1 << 24, "$slow1"));
    items.push_back(itemFor("!slow", (1 << 24) | 1, "$slow2"));
    for (int i = 0; i < 5; ++i) items.push_back(itemFor("!fast", (2ull << 24) | i, "$fast" + std::to_string(i)));
    dispatcher.enqueue(std::move(items));
    {
        std::unique_lock lock(mutex);
        REQUIRE(waitFor(lock, cv, [&] { return completions.size() == 7; }));
        // All of !fast ran while !slow waited out its back-off; !slow kept its order.
        std::vector<std::string> slowOrder;
        for (const auto& id : order)
            if (id.rfind("$slow", 0) == 0) slowOrder.push_back(id);
        CHECK(slowOrder == std::vector<std::string>{"$slow1", "$slow2"});
        size_t firstSlow = std::find(order.begin(), order.end(), "$slow1") - order.begin();
        CHECK(firstSlow == 5);
        CHECK(attemptsSeen["$slow1"] == 2);
        CHECK(attemptsSeen["$slow2"] == 0);
        for (const auto& c : completions) {
            REQUIRE(c.writes.size() == 1);
            CHECK(c.writes[0].key != "never");  // a retried call's writes are dropped
        }
    }
    CHECK(metrics.counter("mxbridge_dispatch_retries_total", "").value() == 2);
    dispatcher.stop(1000ms);
    CHECK(dispatcher.backlog() == 0);
}

TEST_CASE("stop() lets queued items finish within the drain time and reports them done") {
    Metrics metrics;
    std::mutex mutex;
    size_t done = 0;
    Dispatcher dispatcher(
        3, [](DispatchItem&) { return HandleResult{}; },
        [&](std::vector<Completion>&& c) {
            std::lock_guard lock(mutex);
            done += c.size();
        },
        metrics);
    std::vector<DispatchItem> items;
    for (int i = 0; i < 500; ++i)
        items.push_back(itemFor("!r" + std::to_string(i % 7), (uint64_t(i) << 24), "$" + std::to_string(i)));
    dispatcher.enqueue(std::move(items));
    dispatcher.start();
    dispatcher.stop(5000ms);
    CHECK(done == 500);
    CHECK(dispatcher.backlog() == 0);
}
