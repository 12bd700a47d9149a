// Dispatcher: per-room order, rooms in parallel, retries that pause only their own room.
#include <doctest/doctest.h>

#include <algorithm>
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
    return DispatchItem{.queueKey = room,
                        .pos = pos,
                        .txnSeq = pos >> 24,
                        .event = MatrixEvent(EventSource::Timeline, body, *body, fields),
                        .attempts = 0,
                        .unreadable = {}};
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

TEST_CASE("with many rooms sharing turns, each room's items run in order and exactly once") {
    Metrics metrics;
    std::mutex mutex;
    std::map<std::string, std::vector<uint64_t>> ran;  // room -> positions, in call order
    size_t completed = 0;
    std::condition_variable cv;
    Dispatcher dispatcher(
        4,
        [&](DispatchItem& item) {
            std::lock_guard lock(mutex);
            ran[item.queueKey].push_back(item.pos);
            return HandleResult{};
        },
        [&](std::vector<Completion>&& c) {
            std::lock_guard lock(mutex);
            completed += c.size();
            cv.notify_all();
        },
        metrics);
    dispatcher.start();
    constexpr int kBatches = 20, kPerBatch = 500, kRooms = 37;
    for (int b = 0; b < kBatches; ++b) {
        std::vector<DispatchItem> items;
        for (int i = 0; i < kPerBatch; ++i) {
            uint64_t pos = (uint64_t(b + 1) << 24) | uint64_t(i);
            items.push_back(itemFor("!r" + std::to_string((i * 7 + b) % kRooms), pos,
                                    "$" + std::to_string(b) + "-" + std::to_string(i)));
        }
        dispatcher.enqueue(std::move(items));
    }
    std::unique_lock lock(mutex);
    REQUIRE(waitFor(lock, cv, [&] { return completed == size_t(kBatches * kPerBatch); }, 10000ms));
    size_t total = 0;
    for (const auto& [room, positions] : ran) {
        CAPTURE(room);
        CHECK(std::is_sorted(positions.begin(), positions.end()));
        CHECK(std::adjacent_find(positions.begin(), positions.end()) == positions.end());
        total += positions.size();
    }
    CHECK(total == size_t(kBatches * kPerBatch));
    lock.unlock();
    dispatcher.stop(1000ms);
}

TEST_CASE("a handler stuck in one room holds up the other rooms for milliseconds, not until it returns") {
    // Cheap handlers let one worker reserve many rooms for a turn; when one of them blocks
    // (a remote call that hangs), an idle worker takes the rest of that turn over.
    Metrics metrics;
    std::mutex mutex;
    std::condition_variable cv;
    bool release = false;
    bool stuckRunning = false;
    size_t fastDone = 0;
    Dispatcher dispatcher(
        2,
        [&](DispatchItem& item) {
            std::unique_lock lock(mutex);
            if (item.event.eventId().str() == "$stuck") {
                stuckRunning = true;
                cv.notify_all();
                cv.wait_for(lock, 10s, [&] { return release; });
                stuckRunning = false;
            } else {
                ++fastDone;
                cv.notify_all();
            }
            return HandleResult{};
        },
        [](std::vector<Completion>&&) {}, metrics);
    dispatcher.start();
    // Warm up: thousands of cheap items teach the dispatcher that turns may span many rooms.
    std::vector<DispatchItem> warm;
    for (int i = 0; i < 3000; ++i)
        warm.push_back(itemFor("!w" + std::to_string(i % 30), (1ull << 24) | uint64_t(i), "$w" + std::to_string(i)));
    dispatcher.enqueue(std::move(warm));
    {
        std::unique_lock lock(mutex);
        REQUIRE(waitFor(lock, cv, [&] { return fastDone == 3000; }, 10000ms));
        fastDone = 0;
    }
    std::vector<DispatchItem> items;
    items.push_back(itemFor("!stuck", 2ull << 24, "$stuck"));
    for (int i = 1; i <= 30; ++i)
        items.push_back(itemFor("!f" + std::to_string(i), (2ull << 24) | uint64_t(i), "$f" + std::to_string(i)));
    dispatcher.enqueue(std::move(items));
    {
        std::unique_lock lock(mutex);
        // All 30 other rooms finish while the stuck handler is still blocked.
        CHECK(waitFor(lock, cv, [&] { return fastDone == 30; }, 5000ms));
        CHECK(stuckRunning);
        release = true;
        cv.notify_all();
    }
    dispatcher.stop(5000ms);
    CHECK(dispatcher.backlog() == 0);
}
