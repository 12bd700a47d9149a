// The pool: factory for connections and owner of what they share.
#include "mxbridge/irc/connection_pool.h"

#include <algorithm>

namespace mxbridge::irc {

ConnectionPool::ConnectionPool(boost::asio::io_context& io, ConnectionPoolOptions options)
    : io_(io), options_(options), limiter_(io, options.limiter) {}

ConnectionPool::~ConnectionPool() = default;

ConnectionPoolStats ConnectionPool::stats() const {
    ConnectionPoolStats s;
    s.connections = static_cast<std::size_t>(std::max<long>(handles_.load(), 0));
    s.connected = static_cast<std::size_t>(std::max<long>(connected_.load(), 0));
    s.queuedAttempts = limiter_.queued();
    s.attempts = limiter_.granted();
    return s;
}

boost::asio::ssl::context& ConnectionPool::tlsContext(bool verify) {
    auto& slot = verify ? tlsVerify_ : tlsNoVerify_;
    if (!slot) {
        slot = std::make_unique<boost::asio::ssl::context>(boost::asio::ssl::context::tls_client);
        slot->set_options(boost::asio::ssl::context::default_workarounds |
                          boost::asio::ssl::context::no_sslv2 |
                          boost::asio::ssl::context::no_sslv3);
        if (verify) {
            slot->set_default_verify_paths();
            slot->set_verify_mode(boost::asio::ssl::verify_peer);
        } else {
            slot->set_verify_mode(boost::asio::ssl::verify_none);
        }
    }
    return *slot;
}

}  // namespace mxbridge::irc
