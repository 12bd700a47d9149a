#include "fake_xmpp_server.h"

#include <array>
#include <boost/asio/write.hpp>

#include "harness_error.h"

namespace mxbridge::test {

namespace asio = boost::asio;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

FakeXmppServer::FakeXmppServer()
    : acceptor_(io_, tcp::endpoint(asio::ip::address_v4::loopback(), 0)),
      port_(acceptor_.local_endpoint().port()) {}

bool FakeXmppServer::accept(std::chrono::milliseconds timeout) {
    client_.reset();
    buffer_.clear();
    io_.restart();
    acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
        if (!ec) client_.emplace(std::move(socket));
    });
    io_.run_for(timeout);
    if (!client_) {
        acceptor_.cancel();
        io_.restart();
        io_.run();  // let the cancelled accept complete
    }
    return client_.has_value();
}

std::optional<std::string> FakeXmppServer::readSome(Clock::time_point deadline) {
    if (!client_) return std::string();
    std::array<char, 4096> chunk{};
    bool done = false;
    boost::system::error_code error;
    std::size_t got = 0;
    io_.restart();
    client_->async_read_some(asio::buffer(chunk), [&](const boost::system::error_code& ec, std::size_t n) {
        done = true;
        error = ec;
        got = n;
    });
    io_.run_until(deadline);
    if (!done) {
        client_->cancel();
        io_.restart();
        io_.run();  // the cancelled read completes (or its bytes came just in time)
    }
    if (!done || error == asio::error::operation_aborted) return std::nullopt;  // a time-out
    if (error) return std::string();
    return std::string(chunk.data(), got);
}

std::string FakeXmppServer::readUntil(std::string_view needle, std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    while (buffer_.find(needle) == std::string::npos) {
        auto more = readSome(deadline);
        if (!more || more->empty()) {
            throw HarnessError("FakeXmppServer wanted: " + std::string(needle) + "; " +
                               (more ? "the component closed" : "timed out") + "; read:\n" + buffer_);
        }
        buffer_ += *more;
    }
    std::size_t end = buffer_.find(needle) + needle.size();
    std::string out = buffer_.substr(0, end);
    buffer_.erase(0, end);
    return out;
}

void FakeXmppServer::write(std::string_view data) {
    if (client_) asio::write(*client_, asio::buffer(data.data(), data.size()));
}

bool FakeXmppServer::waitClosed(std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    for (;;) {
        auto more = readSome(deadline);
        if (!more) return false;
        if (more->empty()) return true;
        buffer_ += *more;
    }
}

std::string FakeXmppServer::openStream(std::string_view id) {
    std::string header = readUntil("'>");
    write("<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' "
          "xmlns:stream='http://etherx.jabber.org/streams' from='matrix.test' id='" +
          std::string(id) + "'>");
    return header;
}

}  // namespace mxbridge::test
