// Where IRC connections are made: one io_context for all of them, one connect limiter
// across them, the TLS contexts and the optional ident server they register with.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>

#include "mxbridge/connect_limiter.h"
#include "mxbridge/irc/irc_connection.h"

namespace mxbridge::irc {

class IdentServer;

struct ConnectionPoolOptions {
    // Across all connections: a mass reconnect is spread out at this rate (the framework's
    // limiter, shared with every other bridge that needs one).
    ConnectLimiterOptions limiter;
    // When set, every connection registers its port pair here while its socket is up.
    // Not owned; must outlive the pool.
    IdentServer* ident = nullptr;
};

struct ConnectionPoolStats {
    std::size_t connections = 0;      // IrcConnection handles alive
    std::size_t connected = 0;        // in state Connected
    std::size_t queuedAttempts = 0;   // waiting for the limiter
    std::uint64_t attempts = 0;       // connection attempts started so far
};

// create() and stats() are safe from any thread. The pool must outlive its connections and
// the io_context's last run(): destroy connections, then the pool, then stop the loop.
class ConnectionPool {
public:
    explicit ConnectionPool(boost::asio::io_context& io, ConnectionPoolOptions options = {});
    ~ConnectionPool();
    ConnectionPool(const ConnectionPool&) = delete;
    ConnectionPool& operator=(const ConnectionPool&) = delete;

    // A stopped connection; call start() on it.
    IrcConnection create(IrcConnectionOptions options, IrcConnectionHandlers handlers);

    ConnectionPoolStats stats() const;
    boost::asio::io_context& context() { return io_; }

private:
    friend class detail::IrcConnectionImpl;
    friend class IrcConnection;

    AsioConnectLimiter& limiter() { return limiter_; }
    IdentServer* ident() { return options_.ident; }
    // Loop thread only; built on first use.
    boost::asio::ssl::context& tlsContext(bool verify);
    void noteConnected(int delta) { connected_ += delta; }
    void noteHandle(int delta) { handles_ += delta; }

    boost::asio::io_context& io_;
    ConnectionPoolOptions options_;
    AsioConnectLimiter limiter_;
    std::unique_ptr<boost::asio::ssl::context> tlsVerify_;
    std::unique_ptr<boost::asio::ssl::context> tlsNoVerify_;
    std::atomic<long> connected_{0};
    std::atomic<long> handles_{0};
};

}  // namespace mxbridge::irc
