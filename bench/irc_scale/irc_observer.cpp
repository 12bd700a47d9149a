#include "irc_observer.h"

#include "harness_error.h"

namespace mxbridge::bench {

IrcObserver::IrcObserver(test::LineSocket socket, LineHandler handler)
    : socket_(std::move(socket)), handler_(std::move(handler)) {
    reader_ = std::thread([this] { readLoop(); });
}

IrcObserver::~IrcObserver() {
    stop_ = true;
    reader_.join();
}

std::string IrcObserver::failure() const { return failed_ ? failure_ : std::string(); }

void IrcObserver::readLoop() {
    // A short read timeout only bounds how long stop takes; lines are handled as they come.
    while (!stop_) {
        try {
            auto line = socket_.readLine(std::chrono::milliseconds(200));
            if (line) handler_(*line, Clock::now());
        } catch (const test::HarnessError& e) {
            failure_ = e.what();
            failed_ = true;
            return;
        }
    }
}

}  // namespace mxbridge::bench
