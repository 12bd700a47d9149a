// An RFC 1413 ident responder: IRC servers ask "which user owns the connection from your
// port X to my port Y?", and show the answer as the puppet's username (no '~' prefix).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace mxbridge::irc {

struct IdentServerOptions {
    boost::asio::ip::address address = boost::asio::ip::make_address("::");
    // 113 is the standard port and needs root (or CAP_NET_BIND_SERVICE); 0 picks a free one.
    std::uint16_t port = 113;
    // A client that has not sent a full query by then is disconnected.
    std::chrono::milliseconds timeout{10'000};
    // RFC 1413 queries are two port numbers; anything much longer is garbage.
    std::size_t maxLineBytes = 100;
    // Further connections are closed at once while this many are being served.
    std::size_t maxSessions = 64;
};

// Runs on the io_context it is given. add()/remove()/port() are safe from any thread.
// Answers `<local>, <remote> : USERID : UNIX : <username>` for a registered pair,
// `<local>, <remote> : ERROR : NO-USER` for others, `... : ERROR : INVALID-PORT` for
// unparsable queries; one query per connection, then it closes.
class IdentServer {
public:
    IdentServer(boost::asio::io_context& io, IdentServerOptions options = {});
    ~IdentServer();
    IdentServer(const IdentServer&) = delete;
    IdentServer& operator=(const IdentServer&) = delete;

    // Binds and starts accepting; an error (port in use, no permission) is returned, not
    // thrown, so the bridge can run without ident.
    std::error_code start();
    // Closes the listener; sessions in progress finish on their own timeouts.
    void stop();
    // The bound port (useful with port 0); 0 before start().
    std::uint16_t port() const;

    // `localPort` is our side of the IRC connection, `remotePort` the server's (6667…).
    void add(std::uint16_t localPort, std::uint16_t remotePort, std::string username);
    void remove(std::uint16_t localPort, std::uint16_t remotePort);

    // The reply line (without CR LF) for one query line; public for unit tests.
    std::string answer(std::string_view query) const;

    struct Shared;  // implementation detail, public only for the .cpp's session class

private:
    boost::asio::io_context& io_;
    IdentServerOptions options_;
    std::shared_ptr<Shared> shared_;
};

}  // namespace mxbridge::irc
