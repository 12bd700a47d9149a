// RFC 1413 responder: one short-lived session per query, each with its own deadline.
#include "mxbridge/irc/ident_server.h"

#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <charconv>
#include <istream>
#include <optional>
#include <boost/asio/post.hpp>

namespace mxbridge::irc {

namespace asio = boost::asio;
using asio::ip::tcp;

// Everything sessions and the accept loop touch, so they never reach into a destroyed
// IdentServer.
struct IdentServer::Shared {
    Shared(asio::io_context& io, IdentServerOptions opts) : acceptor(io), options(opts) {}
    std::string answer(std::string_view query) const;
    static void accept(std::shared_ptr<Shared> self);

    tcp::acceptor acceptor;
    IdentServerOptions options;
    mutable std::mutex mutex;
    std::map<std::pair<std::uint16_t, std::uint16_t>, std::string> users;
    std::size_t sessions = 0;  // loop thread only
    std::uint16_t port = 0;
};

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

std::optional<std::uint16_t> parsePort(std::string_view text) {
    text = trim(text);
    unsigned value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value == 0 ||
        value > 65535)
        return std::nullopt;
    return static_cast<std::uint16_t>(value);
}

// Usernames come from config; keep the reply one well-formed line whatever they hold.
std::string safeUsername(std::string_view name) {
    std::string out;
    for (char c : name)
        if (c != '\r' && c != '\n' && c != '\0' && c != ':' && c != ' ' && c != ',') out += c;
    return out.empty() ? std::string("user") : out;
}

class Session : public std::enable_shared_from_this<Session> {
public:
    Session(tcp::socket socket, std::shared_ptr<IdentServer::Shared> server)
        : socket_(std::move(socket)),
          timer_(socket_.get_executor()),
          buffer_(server->options.maxLineBytes),
          server_(std::move(server)) {
        ++server_->sessions;
    }
    ~Session() { --server_->sessions; }

    void run() {
        auto self = shared_from_this();
        timer_.expires_after(server_->options.timeout);
        timer_.async_wait([self](const boost::system::error_code& ec) {
            if (!ec) self->close();
        });
        asio::async_read_until(socket_, buffer_, '\n',
                               [self](const boost::system::error_code& ec, std::size_t n) {
                                   self->onLine(ec, n);
                               });
    }

private:
    void onLine(const boost::system::error_code& ec, std::size_t n) {
        if (ec) {  // closed, timed out, or over maxLineBytes without a newline
            close();
            return;
        }
        std::string line(asio::buffers_begin(buffer_.data()),
                         asio::buffers_begin(buffer_.data()) + static_cast<long>(n) - 1);
        reply_ = server_->answer(line) + "\r\n";
        auto self = shared_from_this();
        asio::async_write(socket_, asio::buffer(reply_),
                          [self](const boost::system::error_code&, std::size_t) { self->close(); });
    }

    void close() {
        boost::system::error_code ignored;
        timer_.cancel();
        socket_.shutdown(tcp::socket::shutdown_both, ignored);
        socket_.close(ignored);
    }

    tcp::socket socket_;
    asio::steady_timer timer_;
    asio::streambuf buffer_;
    std::shared_ptr<IdentServer::Shared> server_;
    std::string reply_;
};

}  // namespace

IdentServer::IdentServer(asio::io_context& io, IdentServerOptions options)
    : io_(io), options_(options), shared_(std::make_shared<Shared>(io, options)) {}

IdentServer::~IdentServer() { stop(); }

std::error_code IdentServer::start() {
    boost::system::error_code ec;
    tcp::endpoint endpoint(options_.address, options_.port);
    shared_->acceptor.open(endpoint.protocol(), ec);
    if (!ec) shared_->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) shared_->acceptor.bind(endpoint, ec);
    if (!ec) shared_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
        boost::system::error_code ignored;
        shared_->acceptor.close(ignored);
        return std::error_code(ec.value(), std::generic_category());
    }
    {
        std::lock_guard lock(shared_->mutex);
        shared_->port = shared_->acceptor.local_endpoint().port();
    }
    Shared::accept(shared_);
    return {};
}

void IdentServer::stop() {
    auto shared = shared_;
    asio::post(io_, [shared] {
        boost::system::error_code ignored;
        shared->acceptor.close(ignored);
    });
}

std::uint16_t IdentServer::port() const {
    std::lock_guard lock(shared_->mutex);
    return shared_->port;
}

void IdentServer::add(std::uint16_t localPort, std::uint16_t remotePort, std::string username) {
    std::lock_guard lock(shared_->mutex);
    shared_->users[{localPort, remotePort}] = safeUsername(username);
}

void IdentServer::remove(std::uint16_t localPort, std::uint16_t remotePort) {
    std::lock_guard lock(shared_->mutex);
    shared_->users.erase({localPort, remotePort});
}

std::string IdentServer::answer(std::string_view query) const { return shared_->answer(query); }

std::string IdentServer::Shared::answer(std::string_view query) const {
    std::size_t comma = query.find(',');
    auto local = comma == std::string_view::npos ? std::nullopt : parsePort(query.substr(0, comma));
    auto remote = comma == std::string_view::npos ? std::nullopt : parsePort(query.substr(comma + 1));
    if (!local || !remote) return "0, 0 : ERROR : INVALID-PORT";
    std::string pair = std::to_string(*local) + ", " + std::to_string(*remote);
    std::lock_guard lock(mutex);
    auto it = users.find({*local, *remote});
    if (it == users.end()) return pair + " : ERROR : NO-USER";
    return pair + " : USERID : UNIX : " + it->second;
}

void IdentServer::Shared::accept(std::shared_ptr<Shared> self) {
    auto& acceptor = self->acceptor;
    acceptor.async_accept([self](const boost::system::error_code& ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;
        if (!ec) {
            if (self->sessions >= self->options.maxSessions) {
                boost::system::error_code ignored;
                socket.close(ignored);
            } else {
                std::make_shared<Session>(std::move(socket), self)->run();
            }
        }
        accept(self);
    });
}

}  // namespace mxbridge::irc
