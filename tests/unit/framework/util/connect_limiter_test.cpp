// AsioConnectLimiter: the process-wide pace of connection attempts (IRC puppets, and any
// bridge with its own Asio loop). Real time on a real io_context: bounds are lower bounds on
// the pacing (which load cannot break) and generous upper ones.
#include <doctest/doctest.h>

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "mxbridge/connect_limiter.h"

using namespace mxbridge;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// A loop on its own thread, like a bridge's, stopped and joined at the end of the test.
struct Loop {
    boost::asio::io_context io;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{io.get_executor()};
    std::thread thread{[this] { io.run(); }};
    ~Loop() {
        work.reset();
        io.stop();
        thread.join();
    }
};

// Grants in the order they happened, with when and on which thread.
struct Grants {
    std::mutex mutex;
    std::vector<int> order;
    std::vector<Clock::time_point> at;
    std::vector<std::thread::id> threads;
    void note(int i) {
        std::lock_guard lock(mutex);
        order.push_back(i);
        at.push_back(Clock::now());
        threads.push_back(std::this_thread::get_id());
    }
    std::size_t count() {
        std::lock_guard lock(mutex);
        return order.size();
    }
};

bool waitUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
    for (auto deadline = Clock::now() + timeout; Clock::now() < deadline; std::this_thread::sleep_for(2ms))
        if (done()) return true;
    return done();
}

}  // namespace

TEST_CASE("a burst is granted at once, in request order, then one attempt per interval") {
    Loop loop;
    AsioConnectLimiter limiter(loop.io, {.attemptsPerSecond = 20, .burst = 3});  // one per 50 ms
    Grants grants;
    const auto start = Clock::now();
    for (int i = 0; i < 7; ++i) limiter.acquire([&grants, i] { grants.note(i); });
    REQUIRE(waitUntil([&] { return grants.count() == 7; }, 5s));
    std::lock_guard lock(grants.mutex);
    CHECK(grants.order == std::vector<int>{0, 1, 2, 3, 4, 5, 6});
    // Three at once, then four more 50 ms apart: at least 200 ms for the seventh.
    CHECK(grants.at[2] - start < 1s);
    for (std::size_t i = 3; i < 7; ++i) CHECK(grants.at[i] - grants.at[i - 1] >= 45ms);
    CHECK(grants.at[6] - start >= 195ms);
    CHECK(limiter.granted() == 7);
    CHECK(limiter.queued() == 0);
}

TEST_CASE("attempts wait in the queue, counted, until their turn; the grant runs on the loop, never inside acquire") {
    Loop loop;
    AsioConnectLimiter limiter(loop.io, {.attemptsPerSecond = 10, .burst = 1});  // one per 100 ms
    Grants grants;
    limiter.acquire([&grants] { grants.note(0); });
    CHECK(grants.count() == 0);  // asynchronous even with a token to spare
    for (int i = 1; i < 4; ++i) limiter.acquire([&grants, i] { grants.note(i); });
    CHECK(limiter.queued() >= 2);
    REQUIRE(waitUntil([&] { return grants.count() == 4; }, 5s));
    CHECK(limiter.queued() == 0);
    CHECK(limiter.granted() == 4);
    std::lock_guard lock(grants.mutex);
    for (const auto& t : grants.threads) CHECK(t == loop.thread.get_id());
}

TEST_CASE("attempts from many threads are all granted once, and a grant may ask again") {
    Loop loop;
    AsioConnectLimiter limiter(loop.io, {.attemptsPerSecond = 1000, .burst = 50});
    Grants grants;
    std::vector<std::thread> callers;
    for (int t = 0; t < 4; ++t)
        callers.emplace_back([&, t] {
            for (int i = 0; i < 50; ++i) limiter.acquire([&grants, n = t * 50 + i] { grants.note(n); });
        });
    for (auto& c : callers) c.join();
    // A grant that asks again (a connection retrying at once) is queued, not run inside.
    limiter.acquire([&] { limiter.acquire([&grants] { grants.note(-1); }); });
    REQUIRE(waitUntil([&] { return grants.count() == 201; }, 10s));
    CHECK(limiter.granted() == 202);
    std::lock_guard lock(grants.mutex);
    std::vector<int> sorted = grants.order;
    std::sort(sorted.begin(), sorted.end());
    CHECK(sorted.front() == -1);
    for (int n = 0; n < 200; ++n) CHECK(sorted[static_cast<std::size_t>(n) + 1] == n);
}

TEST_CASE("attempts still waiting when the limiter goes are never granted") {
    Grants grants;
    {
        Loop loop;
        {
            AsioConnectLimiter limiter(loop.io, {.attemptsPerSecond = 2, .burst = 1});  // one per 500 ms
            for (int i = 0; i < 3; ++i) limiter.acquire([&grants, i] { grants.note(i); });
            REQUIRE(waitUntil([&] { return grants.count() == 1; }, 5s));
        }
        std::this_thread::sleep_for(700ms);  // past the second one's turn
    }
    CHECK(grants.count() == 1);
}
