#include "appservice/query_runner.h"

#include <atomic>
#include <memory>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "util/thread_name.h"

namespace mxbridge::detail {

namespace {

// One query's answer, given once: by its work or by its deadline, whichever is first.
struct PendingAnswer {
    PendingAnswer(boost::asio::io_context& timers, Responder r) : respond(std::move(r)), timer(timers) {}
    bool claim() { return !answered.exchange(true); }

    Responder respond;
    std::atomic<bool> answered{false};
    boost::asio::steady_timer timer;  // touched on the timer thread only
};

}  // namespace

QueryRunner::QueryRunner(unsigned concurrency, std::chrono::milliseconds deadline)
    : deadline_(deadline),
      workers_(concurrency == 0 ? 1 : concurrency),
      keepTimers_(boost::asio::make_work_guard(timers_)),
      timerThread_([this] {
          nameThisThread("mxb-query-time");
          timers_.run();
      }) {}

QueryRunner::~QueryRunner() {
    workers_.join();
    keepTimers_.reset();
    timers_.stop();
    timerThread_.join();
}

void QueryRunner::run(std::function<HttpResponse()> work, Responder respond,
                      std::function<HttpResponse()> late) {
    auto pending = std::make_shared<PendingAnswer>(timers_, std::move(respond));
    boost::asio::post(timers_, [this, pending, late = std::move(late)] {
        pending->timer.expires_after(deadline_);
        pending->timer.async_wait([pending, late](boost::system::error_code ec) {
            if (ec || !pending->claim()) return;
            pending->respond(late());
        });
    });
    boost::asio::post(workers_, [this, pending, work = std::move(work)] {
        if (pending->answered.load()) return;  // its deadline passed while it waited
        HttpResponse answer = work();
        if (!pending->claim()) return;
        pending->respond(std::move(answer));
        boost::asio::post(timers_, [pending] { pending->timer.cancel(); });
    });
}

}  // namespace mxbridge::detail
