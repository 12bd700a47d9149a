// AsioConnectLimiter: one FIFO of waiting attempts, released by one timer on the loop.
#include "mxbridge/connect_limiter.h"

#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

namespace mxbridge {

// Shared with the loop's pending handlers, so a handler that runs after the limiter is gone
// finds `closed_` set instead of freed memory.
class AsioConnectLimiter::Impl : public std::enable_shared_from_this<Impl> {
public:
    using Clock = std::chrono::steady_clock;

    Impl(boost::asio::io_context& io, ConnectLimiterOptions options)
        : io_(io),
          timer_(std::make_unique<boost::asio::steady_timer>(io)),
          burst_(std::max<std::size_t>(options.burst, 1)),
          spacing_(std::chrono::duration_cast<Clock::duration>(
              std::chrono::duration<double>(1.0 / (options.attemptsPerSecond > 0 ? options.attemptsPerSecond : 1.0)))) {}

    void acquire(std::function<void()> go) {
        std::lock_guard lock(mutex_);
        if (closed_) return;
        waiting_.push_back(std::move(go));
        queued_.store(waiting_.size());
        if (wakeArmed_) return;
        wakeArmed_ = true;
        boost::asio::post(io_, [self = shared_from_this()] { self->release(); });
    }

    void close() {
        std::lock_guard lock(mutex_);
        closed_ = true;
        waiting_.clear();
        // Cancels a wait in progress; its handler then finds closed_ set.
        timer_.reset();
        queued_.store(0);
    }

    std::atomic<std::size_t> queued_{0};
    std::atomic<uint64_t> granted_{0};

private:
    // The bucket is a single time point: when it will hold `burst_` tokens again. A token is
    // free once that moment is at most burst_ - 1 spacings away.
    Clock::time_point firstFreeAt(Clock::time_point now) const {
        Clock::time_point refilled = std::max(refilledAt_, now);
        return std::max(now, refilled - spacing_ * static_cast<long>(burst_ - 1));
    }

    // Loop thread: grants what the bucket allows, then sleeps until the next token.
    void release() {
        std::vector<std::function<void()>> ready;
        {
            std::lock_guard lock(mutex_);
            wakeArmed_ = false;
            if (closed_) return;
            const Clock::time_point now = Clock::now();
            while (!waiting_.empty() && firstFreeAt(now) <= now) {
                refilledAt_ = std::max(refilledAt_, now) + spacing_;
                ready.push_back(std::move(waiting_.front()));
                waiting_.pop_front();
            }
            queued_.store(waiting_.size());
            granted_ += ready.size();
            if (!waiting_.empty()) {
                wakeArmed_ = true;
                timer_->expires_at(firstFreeAt(now));
                timer_->async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
                    if (ec) {
                        std::lock_guard lock(self->mutex_);
                        self->wakeArmed_ = false;
                        return;
                    }
                    self->release();
                });
            }
        }
        // Outside the lock: `go` may call acquire() again.
        for (auto& go : ready) go();
    }

    boost::asio::io_context& io_;
    std::unique_ptr<boost::asio::steady_timer> timer_;  // under mutex_; gone once closed
    const std::size_t burst_;
    const Clock::duration spacing_;
    std::mutex mutex_;
    std::deque<std::function<void()>> waiting_;
    Clock::time_point refilledAt_{};
    bool wakeArmed_ = false;  // a release() is posted or the timer waits
    bool closed_ = false;
};

AsioConnectLimiter::AsioConnectLimiter(boost::asio::io_context& io, ConnectLimiterOptions options)
    : impl_(std::make_shared<Impl>(io, options)) {}

AsioConnectLimiter::~AsioConnectLimiter() { impl_->close(); }

void AsioConnectLimiter::acquire(std::function<void()> go) { impl_->acquire(std::move(go)); }

std::size_t AsioConnectLimiter::queued() const { return impl_->queued_.load(); }

uint64_t AsioConnectLimiter::granted() const { return impl_->granted_.load(); }

}  // namespace mxbridge
