#include "appservice/query_runner.h"

#include <atomic>
#include <memory>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "util/thread_name.h"

namespace mxbridge::detail {

namespace {

// One query's answer, given once: by its work or by its deadline, whichever is first. The
// deadline also needs to know whether the work ever started: work that never got a thread
// will not run at all, and its late answer must not promise that it goes on.
struct PendingAnswer {
    enum State : int { Waiting, Running, Answered };
    PendingAnswer(boost::asio::io_context& timers, Responder r) : respond(std::move(r)), timer(timers) {}
    // The worker takes the work only if no answer was given while it waited for a thread.
    bool start() {
        int expected = Waiting;
        return state.compare_exchange_strong(expected, Running);
    }
    // Returns the state before this answer, or Answered if someone answered first.
    State claim() { return static_cast<State>(state.exchange(Answered)); }

    Responder respond;
    std::atomic<int> state{Waiting};
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

QueryRunner::~QueryRunner() { stop(); }

void QueryRunner::stop() {
    if (stopped_.exchange(true)) return;
    workers_.join();
    keepTimers_.reset();
    timers_.stop();
    timerThread_.join();
}

void QueryRunner::run(std::function<HttpResponse()> work, Responder respond,
                      std::function<HttpResponse()> late, std::function<HttpResponse()> unstarted) {
    if (stopped_.load()) return;  // shutting down: the HTTP server answers no more
    if (!unstarted) unstarted = late;
    auto pending = std::make_shared<PendingAnswer>(timers_, std::move(respond));
    boost::asio::post(timers_, [this, pending, late = std::move(late), unstarted = std::move(unstarted)] {
        pending->timer.expires_after(deadline_);
        pending->timer.async_wait([pending, late, unstarted](boost::system::error_code ec) {
            if (ec) return;
            switch (pending->claim()) {
                case PendingAnswer::Waiting: pending->respond(unstarted()); return;
                case PendingAnswer::Running: pending->respond(late()); return;
                case PendingAnswer::Answered: return;
            }
        });
    });
    boost::asio::post(workers_, [this, pending, work = std::move(work)] {
        if (!pending->start()) return;  // its deadline passed while it waited
        HttpResponse answer = work();
        if (pending->claim() == PendingAnswer::Answered) return;
        pending->respond(std::move(answer));
        boost::asio::post(timers_, [pending] { pending->timer.cancel(); });
    });
}

}  // namespace mxbridge::detail
