#include "test_env.h"

#include <sstream>

namespace mxbridge::test {

irc::IrcConnectionHandlers Probe::handlers() {
    irc::IrcConnectionHandlers h;
    h.onStateChange = [this](const irc::StateChange& s) {
        std::lock_guard lock(mutex_);
        states_.push_back(s);
        cv_.notify_all();
    };
    h.onMessage = [this](const irc::IrcMessage& m) {
        std::lock_guard lock(mutex_);
        messages_.push_back(m);
        cv_.notify_all();
    };
    h.onJoinFailure = [this](const irc::JoinFailure& f) {
        std::lock_guard lock(mutex_);
        joinFailures_.push_back(f);
        cv_.notify_all();
    };
    h.onSendFailure = [this](const irc::SendFailure& f) {
        std::lock_guard lock(mutex_);
        sendFailures_.push_back(f);
        cv_.notify_all();
    };
    h.onSent = [this](std::uint64_t receipt) {
        std::lock_guard lock(mutex_);
        receipts_.push_back(receipt);
        cv_.notify_all();
    };
    return h;
}

std::vector<std::uint64_t> Probe::waitReceipts(std::size_t count, std::chrono::milliseconds timeout) {
    waitFor([&] { return receipts_.size() >= count; }, timeout);
    std::lock_guard lock(mutex_);
    return receipts_;
}

bool Probe::waitFor(std::function<bool()> pred, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, pred);
}

std::optional<irc::StateChange> Probe::waitState(irc::ConnectionState state,
                                                 std::chrono::milliseconds timeout,
                                                 std::size_t from) {
    std::optional<irc::StateChange> found;
    waitFor(
        [&] {
            for (std::size_t i = from; i < states_.size(); ++i)
                if (states_[i].state == state) {
                    found = states_[i];
                    return true;
                }
            return false;
        },
        timeout);
    return found;
}

std::optional<irc::IrcMessage> Probe::waitMessage(
    std::function<bool(const irc::IrcMessage&)> pred, std::chrono::milliseconds timeout) {
    std::optional<irc::IrcMessage> found;
    waitFor(
        [&] {
            for (const auto& m : messages_)
                if (pred(m)) {
                    found = m;
                    return true;
                }
            return false;
        },
        timeout);
    return found;
}

std::size_t Probe::stateCount() const {
    std::lock_guard lock(mutex_);
    return states_.size();
}

std::vector<irc::StateChange> Probe::states() const {
    std::lock_guard lock(mutex_);
    return states_;
}

std::vector<irc::SendFailure> Probe::sendFailures() const {
    std::lock_guard lock(mutex_);
    return sendFailures_;
}

std::vector<irc::JoinFailure> Probe::joinFailures() const {
    std::lock_guard lock(mutex_);
    return joinFailures_;
}

std::string Probe::history() const {
    std::lock_guard lock(mutex_);
    std::ostringstream out;
    for (const auto& s : states_) out << irc::stateName(s.state) << " (" << s.reason << ")\n";
    return out.str();
}

TestEnv::TestEnv(irc::ConnectionPoolOptions options)
    : pool_(std::in_place, io_, options),
      work_(io_.get_executor()),
      thread_([this] { io_.run(); }) {}

TestEnv::~TestEnv() {
    clearConnections();
    work_.reset();
    io_.stop();
    thread_.join();
    pool_.reset();
}

void TestEnv::clearConnections() {
    // Destroying a handle off the loop posts its stop; give the loop a moment to send QUITs.
    connections_.clear();
    std::this_thread::sleep_for(50ms);
}

irc::IrcConnection& TestEnv::add(irc::IrcConnectionOptions options, Probe** probe) {
    Probe& p = probes_.emplace_back();
    if (probe != nullptr) *probe = &p;
    return connections_.emplace_back(pool_->create(std::move(options), p.handlers()));
}

irc::IrcConnectionOptions localOptions(std::uint16_t port, const std::string& nick) {
    irc::IrcConnectionOptions o;
    o.host = "127.0.0.1";
    o.port = port;
    o.tls = false;
    o.nick = nick;
    o.username = nick + "u";
    o.realname = "Test " + nick;
    o.floodBurst = 20;
    o.floodInterval = 20ms;
    o.connectTimeout = 2s;
    o.registrationTimeout = 5s;
    o.reconnectBackoff.initial = 200ms;
    o.reconnectBackoff.max = 1s;
    return o;
}

}  // namespace mxbridge::test
