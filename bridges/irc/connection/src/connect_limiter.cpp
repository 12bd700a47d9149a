// The shared connect limiter: a FIFO of waiting attempts released by one timer.
#include "mxbridge/irc/connect_limiter.h"

#include <algorithm>
#include <boost/asio/post.hpp>

namespace mxbridge::irc {

namespace {

FloodControl::Clock::duration intervalFor(double perSecond) {
    if (perSecond <= 0) perSecond = 1;
    return std::chrono::duration_cast<FloodControl::Clock::duration>(
        std::chrono::duration<double>(1.0 / perSecond));
}

}  // namespace

ConnectLimiter::ConnectLimiter(boost::asio::io_context& io, ConnectLimiterOptions options)
    : io_(io),
      bucket_(std::max<std::size_t>(options.burst, 1), intervalFor(options.attemptsPerSecond)),
      timer_(io) {}

void ConnectLimiter::acquire(std::function<void()> go) {
    waiting_.push_back(std::move(go));
    ++queued_;
    if (!timerArmed_) {
        timerArmed_ = true;
        boost::asio::post(io_, [this] {
            timerArmed_ = false;
            drain();
        });
    }
}

void ConnectLimiter::drain() {
    auto now = FloodControl::Clock::now();
    while (!waiting_.empty() && bucket_.tryTake(now)) {
        auto go = std::move(waiting_.front());
        waiting_.pop_front();
        --queued_;
        ++granted_;
        go();
    }
    if (waiting_.empty() || timerArmed_) return;
    timerArmed_ = true;
    timer_.expires_at(bucket_.nextAvailable(now));
    timer_.async_wait([this](const boost::system::error_code& ec) {
        timerArmed_ = false;
        if (!ec) drain();
    });
}

}  // namespace mxbridge::irc
