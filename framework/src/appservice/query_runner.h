// Runs the queries the homeserver makes (user and alias queries, third-party lookups), which
// may themselves wait on the homeserver (registering a ghost, creating a portal room):
// up to `concurrency` at once, so one slow room creation holds up no other query, and each
// answered by its deadline — with the prepared late answer when its work has not finished —
// so the homeserver hears back before its own timeout gives the user a bare error.
// Issue 9, item 22: four queries waiting on a 15 s createRoom once held a two-thread pool
// shared with /health, which went unanswered for 40 s.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include "appservice/http_server.h"

namespace mxbridge::detail {

class QueryRunner {
public:
    QueryRunner(unsigned concurrency, std::chrono::milliseconds deadline);
    // Waits for the work in progress (its answers go nowhere if the deadline answered).
    ~QueryRunner();
    // Stops taking work and waits for the work in progress and the deadline thread, so no
    // query touches what its owner stops next (the connector, the HTTP server). Idempotent.
    void stop();
    QueryRunner(const QueryRunner&) = delete;
    QueryRunner& operator=(const QueryRunner&) = delete;

    // `work` runs on a query thread and returns the answer; it must not throw. If it has not
    // returned within the deadline (waiting for a free thread included), `late()` is sent
    // instead (it runs on the deadline thread: keep it cheap), and work's answer is dropped.
    // Work still waiting for a thread when its deadline passed is not started, and is
    // answered `unstarted()` instead (late() when unset): nothing of it goes on. After
    // stop(), work is dropped unanswered.
    void run(std::function<HttpResponse()> work, Responder respond,
             std::function<HttpResponse()> late, std::function<HttpResponse()> unstarted = {});

    std::chrono::milliseconds deadline() const { return deadline_; }

private:
    std::chrono::milliseconds deadline_;
    std::atomic<bool> stopped_{false};
    boost::asio::thread_pool workers_;
    // Deadlines run on a thread of their own, which nothing else blocks.
    boost::asio::io_context timers_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> keepTimers_;
    std::thread timerThread_;
};

}  // namespace mxbridge::detail
