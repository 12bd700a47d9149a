// QueryRunner: queries side by side up to a bound, each answered by its deadline.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "appservice/query_runner.h"

using namespace mxbridge::detail;
using namespace std::chrono_literals;

namespace {

// Collects the answers a Responder was given, with when they came.
struct Answers {
    std::mutex mutex;
    std::vector<unsigned> statuses;
    Responder responder() {
        return Responder([this](HttpResponse&& r) {
            std::lock_guard lock(mutex);
            statuses.push_back(r.result_int());
        });
    }
    size_t count() {
        std::lock_guard lock(mutex);
        return statuses.size();
    }
};

HttpResponse status(http::status s) { return jsonResponse(s, "{}"); }

bool waitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(2ms);
    return done();
}

}  // namespace

TEST_CASE("slow queries run side by side up to the bound") {
    Answers answers;
    std::atomic<int> running{0}, most{0};
    {
        QueryRunner runner(4, 10s);
        auto started = std::chrono::steady_clock::now();
        for (int i = 0; i < 4; ++i) {
            runner.run([&] {
                int now = ++running;
                for (int seen = most.load(); now > seen && !most.compare_exchange_weak(seen, now);) {}
                std::this_thread::sleep_for(200ms);
                --running;
                return status(http::status::ok);
            }, answers.responder(), [] { return status(http::status::not_found); });
        }
        CHECK(waitFor([&] { return answers.count() == 4; }, 2s));
        CHECK(std::chrono::steady_clock::now() - started < 600ms);  // not 4 x 200 ms
    }
    CHECK(most.load() == 4);
    CHECK(answers.statuses == std::vector<unsigned>(4, 200));
}

TEST_CASE("a query not done by its deadline gets the late answer once, and its own answer is dropped") {
    Answers answers;
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    std::atomic<int> started{0};
    {
        QueryRunner runner(1, 100ms);
        auto begin = std::chrono::steady_clock::now();
        // The first holds the only thread past its deadline; the second waits behind it.
        for (int i = 0; i < 2; ++i) {
            runner.run([&, released] {
                ++started;
                released.wait();
                return status(http::status::ok);
            }, answers.responder(), [] { return status(http::status::not_found); });
        }
        CHECK(waitFor([&] { return answers.count() == 2; }, 2s));
        CHECK(std::chrono::steady_clock::now() - begin < 1s);
        release.set_value();
    }
    CHECK(answers.statuses == std::vector<unsigned>{404, 404});
    CHECK(started.load() == 1);  // the second's deadline passed before a thread was free
}

TEST_CASE("a query whose deadline passed while it waited for a free thread gets the not-started answer, not the one promising its work goes on") {
    Answers answers;
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    std::mutex bodiesMutex;
    std::vector<std::string> bodies;
    Responder keepBody([&](HttpResponse&& r) {
        std::lock_guard lock(bodiesMutex);
        bodies.push_back(r.body());
    });
    {
        QueryRunner runner(1, 100ms);
        for (int i = 0; i < 2; ++i) {
            runner.run([released] {
                released.wait();
                return status(http::status::ok);
            }, keepBody, [] { return jsonResponse(http::status::not_found, "goes on"); },
               [] { return jsonResponse(http::status::not_found, "never started"); });
        }
        CHECK(waitFor([&] { std::lock_guard lock(bodiesMutex); return bodies.size() == 2; }, 2s));
        release.set_value();
    }
    CHECK(bodies == std::vector<std::string>{"goes on", "never started"});
}

TEST_CASE("stopping the query runner waits for the query in progress, and a query after it is not run") {
    Answers answers;
    std::atomic<bool> finished{false}, ranAfterStop{false};
    QueryRunner runner(2, 10s);
    runner.run([&] {
        std::this_thread::sleep_for(200ms);
        finished = true;
        return status(http::status::ok);
    }, answers.responder(), [] { return status(http::status::not_found); });
    std::this_thread::sleep_for(20ms);  // let it start
    runner.stop();
    CHECK(finished.load());  // stop() returned only once the work was done
    CHECK(answers.statuses == std::vector<unsigned>{200});
    runner.run([&] {
        ranAfterStop = true;
        return status(http::status::ok);
    }, answers.responder(), [] { return status(http::status::not_found); });
    std::this_thread::sleep_for(50ms);
    CHECK_FALSE(ranAfterStop.load());
    runner.stop();  // idempotent: the destructor calls it again too
}
