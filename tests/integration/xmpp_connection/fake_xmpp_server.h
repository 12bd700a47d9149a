// A scripted XMPP server for the faults a real one will not produce on demand (broken XML,
// chosen stream errors, silence): one component connection at a time, driven from the test
// thread with blocking calls and deadlines.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mxbridge::test {

class FakeXmppServer {
public:
    FakeXmppServer();  // listens on 127.0.0.1, a free port
    std::uint16_t port() const { return port_; }

    // Waits for the next connection (dropping the previous one); false at the deadline.
    bool accept(std::chrono::milliseconds timeout = std::chrono::seconds(10));
    // Reads until `needle` has arrived; returns everything read up to and including it.
    // Throws HarnessError at the deadline or when the component closes first.
    std::string readUntil(std::string_view needle, std::chrono::milliseconds timeout = std::chrono::seconds(5));
    void write(std::string_view data);
    // True when the component closes the connection before the deadline.
    bool waitClosed(std::chrono::milliseconds timeout = std::chrono::seconds(5));

    // Reads the component's stream header and answers with a jabber:component:accept header
    // holding stream id `id`; returns the component's header.
    std::string openStream(std::string_view id);

private:
    // Runs one read with a deadline; nullopt on time-out, "" on end of stream.
    std::optional<std::string> readSome(std::chrono::steady_clock::time_point deadline);

    boost::asio::io_context io_;
    boost::asio::ip::tcp::acceptor acceptor_;
    std::optional<boost::asio::ip::tcp::socket> client_;
    std::uint16_t port_ = 0;
    std::string buffer_;
};

}  // namespace mxbridge::test
