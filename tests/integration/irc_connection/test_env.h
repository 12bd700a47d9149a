// A loop thread, a pool and probes recording each connection's callbacks, torn down in the
// order the connection layer's contract asks for: connections, then the loop, then the pool.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "mxbridge/irc/connection_pool.h"
#include "mxbridge/irc/irc_connection.h"

namespace mxbridge::test {

using namespace std::chrono_literals;

// What one connection reported, readable from the test thread.
class Probe {
public:
    irc::IrcConnectionHandlers handlers();

    // Waits for a state change to `state` (seen at any time since creation, from `from` on).
    std::optional<irc::StateChange> waitState(irc::ConnectionState state,
                                              std::chrono::milliseconds timeout = 10s,
                                              std::size_t from = 0);
    std::optional<irc::IrcMessage> waitMessage(std::function<bool(const irc::IrcMessage&)> pred,
                                               std::chrono::milliseconds timeout = 10s);
    std::size_t stateCount() const;
    std::vector<irc::StateChange> states() const;
    std::vector<irc::SendFailure> sendFailures() const;
    std::vector<irc::JoinFailure> joinFailures() const;
    // Receipts reported through onSent, in order; waits until `count` are in.
    std::vector<std::uint64_t> waitReceipts(std::size_t count, std::chrono::milliseconds timeout = 10s);
    std::string history() const;  // states, for failure messages

private:
    bool waitFor(std::function<bool()> pred, std::chrono::milliseconds timeout);

    mutable std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<irc::StateChange> states_;
    std::vector<irc::IrcMessage> messages_;
    std::vector<irc::SendFailure> sendFailures_;
    std::vector<irc::JoinFailure> joinFailures_;
    std::vector<std::uint64_t> receipts_;
};

class TestEnv {
public:
    explicit TestEnv(irc::ConnectionPoolOptions options = {});
    ~TestEnv();

    irc::ConnectionPool& pool() { return *pool_; }
    boost::asio::io_context& io() { return io_; }
    // A connection with a probe; both live until the env ends.
    irc::IrcConnection& add(irc::IrcConnectionOptions options, Probe** probe = nullptr);
    void clearConnections();

private:
    std::deque<Probe> probes_;
    boost::asio::io_context io_;
    std::optional<irc::ConnectionPool> pool_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
    std::thread thread_;
    std::deque<irc::IrcConnection> connections_;
};

// Plain TCP to 127.0.0.1, short timers, as tests want them.
irc::IrcConnectionOptions localOptions(std::uint16_t port, const std::string& nick);

}  // namespace mxbridge::test
