#include "appservice/http_server.h"
#include "appservice/connection_table.h"
#include "appservice/request_framing.h"
#include "util/fd_limit.h"
#include "util/thread_name.h"

#include <algorithm>
#include <chrono>
#include <system_error>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <nlohmann/json.hpp>

namespace mxbridge::detail {

namespace beast = boost::beast;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

// A connection the homeserver authenticated on may idle as long as its keep-alive pool likes;
// one nobody vouched for gets a short while to send a whole header, so idle or trickling
// clients do not hold descriptors and buffers for minutes (issue 9, item 21).
constexpr auto kIdleTimeout = std::chrono::seconds(75);
constexpr auto kUntrustedIdleTimeout = std::chrono::seconds(15);
constexpr auto kBodyTimeout = std::chrono::seconds(120);
// After refusing a request early we keep reading (and discarding) what the client still
// sends for a moment, so the kernel does not reset the connection before it reads our answer.
constexpr auto kLingerTimeout = std::chrono::seconds(2);
constexpr size_t kLingerMaxBytes = 64 * 1024 * 1024;
constexpr size_t kMaxReadReserve = 1024 * 1024;
// accept() failing for want of descriptors (EMFILE) fails again at once while the connection
// waits in the backlog: pause instead of spinning a core.
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(100);

// Errors that mean the peer went away or time ran out: nothing to answer.
bool peerGone(beast::error_code ec) {
    return ec == http::error::end_of_stream || ec == beast::error::timeout ||
           ec == net::error::operation_aborted || ec == net::error::connection_reset ||
           ec == net::error::broken_pipe || ec == net::error::bad_descriptor;
}

class Session : public std::enable_shared_from_this<Session> {
public:
    Session(tcp::socket&& socket, HttpHandler& handler, std::shared_ptr<std::atomic<int>> inFlight)
        : stream_(std::move(socket)), handler_(handler), inFlight_(std::move(inFlight)) {}

    void start(std::unique_ptr<ConnectionTable::Slot> slot) {
        slot_ = std::move(slot);
        net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->readHeader(); });
    }

    // Called by the connection table to make room: only posts.
    void evict() {
        net::post(stream_.get_executor(), [self = shared_from_this()] { self->close(); });
    }

private:
    void readHeader() {
        parser_.emplace();
        parser_->header_limit(16 * 1024);
        parser_->body_limit(handler_.bodyLimit());
        terms_ = RequestTerms{.bodyLimit = handler_.bodyLimit(), .limitName = "appservice.max_body_bytes"};
        slot_->setWaiting(true);
        stream_.expires_after(slot_->trusted() ? kIdleTimeout : kUntrustedIdleTimeout);
        http::async_read_header(stream_, buffer_, *parser_,
            [self = shared_from_this()](beast::error_code ec, size_t) { self->onHeader(ec); });
    }

    void onHeader(beast::error_code ec) {
        slot_->setWaiting(false);
        if (ec == http::error::body_limit) {
            // Beast checks Content-Length against body_limit while parsing the header.
            respondAndClose(tooLarge());
            return;
        }
        if (ec) {
            if (!peerGone(ec)) {
                respondAndClose(matrixError(http::status::bad_request, "M_UNKNOWN",
                                            "malformed HTTP request: " + ec.message()));
            } else {
                close();
            }
            return;
        }
        const auto& header = parser_->get();
        version_ = header.version();
        if (auto problem = framingProblem(header)) {
            respondAndClose(matrixError(http::status::bad_request, "M_UNKNOWN", *problem));
            return;
        }
        if (auto early = handler_.onHeaders(header)) {
            respondAndClose(std::move(*early));
            return;
        }
        terms_ = handler_.termsFor(header);
        if (terms_.fromHomeserver) slot_->markTrusted();
        // The limit Beast counts the body's bytes against as they are read, chunked or not.
        parser_->body_limit(terms_.bodyLimit);
        if (auto length = parser_->content_length(); length && *length > terms_.bodyLimit) {
            respondAndClose(tooLarge());
            return;
        }
        // Beast reads into the free space of buffer_, and no less than 512 bytes: left at the
        // size of a header, a 20 KB body would take 40 reads (and as many reactor round
        // trips). Room for the whole body (up to 1 MB) lets one read take what has arrived.
        if (auto length = parser_->content_length(); length && *length > 0) {
            buffer_.reserve(std::min<size_t>(buffer_.size() + *length, kMaxReadReserve));
        }
        stream_.expires_after(kBodyTimeout);
        http::async_read(stream_, buffer_, *parser_,
            [self = shared_from_this()](beast::error_code ec, size_t) { self->onBody(ec); });
    }

    HttpResponse tooLarge() const {
        return matrixError(http::status::payload_too_large, "M_TOO_LARGE",
                           "request body is larger than " + terms_.limitName + " (" +
                               std::to_string(terms_.bodyLimit) + " bytes)");
    }

    void onBody(beast::error_code ec) {
        if (ec == http::error::body_limit) {
            respondAndClose(tooLarge());
            return;
        }
        if (ec) {
            // A bad chunk size, a missing CRLF, a body cut short by the peer's close: say so,
            // rather than close without a word (a half-closed peer still reads the answer).
            if (!peerGone(ec)) {
                respondAndClose(matrixError(http::status::bad_request, "M_UNKNOWN",
                                            "malformed HTTP request body: " + ec.message()));
            } else {
                close();
            }
            return;
        }
        HttpRequest request = parser_->release();
        keepAlive_ = request.keep_alive();
        version_ = request.version();
        inFlight_->fetch_add(1);
        auto self = shared_from_this();
        handler_.onRequest(std::move(request), Responder([self](HttpResponse&& response) {
            auto shared = std::make_shared<HttpResponse>(std::move(response));
            net::post(self->stream_.get_executor(), [self, shared] {
                self->inFlight_->fetch_sub(1);
                self->write(std::move(*shared), !self->keepAlive_);
            });
        }));
    }

    void respondAndClose(HttpResponse&& response) { write(std::move(response), true); }

    void write(HttpResponse&& response, bool closeAfter) {
        response.version(version_);
        response.keep_alive(!closeAfter);
        response.prepare_payload();  // always a Content-Length: Synapse retries without one
        response_ = std::make_shared<HttpResponse>(std::move(response));
        stream_.expires_after(kIdleTimeout);
        http::async_write(stream_, *response_,
            [self = shared_from_this(), closeAfter](beast::error_code ec, size_t) {
                self->response_.reset();
                if (ec) return self->close();
                if (closeAfter) return self->linger();
                self->readHeader();
            });
    }

    void linger() {
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
        stream_.expires_after(kLingerTimeout);
        slot_->setWaiting(true);
        drain();
    }

    void drain() {
        scratch_.resize(64 * 1024);
        stream_.async_read_some(net::buffer(scratch_),
            [self = shared_from_this()](beast::error_code ec, size_t n) {
                self->drained_ += n;
                if (ec || self->drained_ > kLingerMaxBytes) return self->close();
                self->drain();
            });
    }

    void close() {
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream_.socket().close(ignored);
    }

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    RequestTerms terms_;
    std::shared_ptr<HttpResponse> response_;
    std::vector<char> scratch_;
    size_t drained_ = 0;
    bool keepAlive_ = true;
    unsigned version_ = 11;
    HttpHandler& handler_;
    std::shared_ptr<std::atomic<int>> inFlight_;
    std::unique_ptr<ConnectionTable::Slot> slot_;
};

}  // namespace

HttpResponse jsonResponse(http::status status, std::string body, unsigned version) {
    HttpResponse response{status, version};
    response.set(http::field::content_type, "application/json");
    response.set(http::field::server, "mxbridge");
    response.body() = std::move(body);
    return response;
}

HttpResponse matrixError(http::status status, const std::string& errcode, const std::string& error) {
    nlohmann::json body = {{"errcode", errcode}, {"error", error}};
    return jsonResponse(status, body.dump());
}

HttpServer::HttpServer(HttpHandler& handler, unsigned threads, std::size_t maxConnections)
    : handler_(handler),
      threadCount_(threads == 0 ? 1 : threads),
      connections_(ConnectionTable::create(maxConnections != 0 ? maxConnections
                                                               : inboundConnectionCap(fdLimit()))) {}

std::size_t HttpServer::maxConnections() const { return connections_->capacity(); }

HttpServer::~HttpServer() { stop(std::chrono::milliseconds(0)); }

void HttpServer::listen(const std::string& address, uint16_t port) {
    beast::error_code ec;
    auto ip = net::ip::make_address(address, ec);
    if (ec) throw std::system_error(ec, "appservice.bind_address '" + address + "' is not an IP address");
    tcp::endpoint endpoint(ip, port);
    acceptor_ = std::make_unique<tcp::acceptor>(net::make_strand(io_));
    acceptor_->open(endpoint.protocol());
    acceptor_->set_option(net::socket_base::reuse_address(true));
    acceptor_->bind(endpoint, ec);
    if (ec) {
        throw std::system_error(ec, "cannot listen on " + address + ":" + std::to_string(port) +
                                        " (is another process using it? change appservice.port)");
    }
    acceptor_->listen(net::socket_base::max_listen_connections);
    port_ = acceptor_->local_endpoint().port();
    accept();
    for (unsigned i = 0; i < threadCount_; ++i) {
        threads_.emplace_back([this] {
            nameThisThread("mxb-http");
            io_.run();
        });
    }
}

void HttpServer::accept() {
    acceptor_->async_accept(net::make_strand(io_), [this](beast::error_code ec, tcp::socket socket) {
        if (ec == net::error::operation_aborted) return;
        if (ec) {
            if (auto heldBack = acceptFailures_.pass())
                log_.warn("cannot accept connections; retrying every 100 ms",
                          {{"error", ec.message()}, {"similar_warnings_held_back", *heldBack}});
            return acceptLater();
        }
        socket.set_option(tcp::no_delay(true), ec);
        auto session = std::make_shared<Session>(std::move(socket), handler_, inFlight_);
        auto slot = connections_->admit([weak = std::weak_ptr<Session>(session)] {
            if (auto s = weak.lock()) s->evict();
        });
        if (slot) {
            session->start(std::move(slot));
        } else if (auto heldBack = refusals_.pass()) {
            // The session's destructor closes the socket.
            log_.warn("refused a connection: every slot is held by the homeserver or a request "
                      "in progress",
                      {{"max_connections", connections_->capacity()},
                       {"similar_warnings_held_back", *heldBack}});
        }
        if (acceptor_->is_open()) accept();
    });
}

void HttpServer::acceptLater() {
    if (!acceptRetry_) acceptRetry_ = std::make_unique<net::steady_timer>(acceptor_->get_executor());
    acceptRetry_->expires_after(kAcceptRetryDelay);
    acceptRetry_->async_wait([this](beast::error_code ec) {
        if (!ec && acceptor_->is_open()) accept();
    });
}

void HttpServer::stop(std::chrono::milliseconds grace) {
    if (threads_.empty()) return;
    if (acceptor_) {
        net::post(acceptor_->get_executor(), [this] {
            beast::error_code ignored;
            acceptor_->close(ignored);
            if (acceptRetry_) acceptRetry_->cancel();
        });
    }
    auto deadline = std::chrono::steady_clock::now() + grace;
    while (inFlight_->load() > 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    io_.stop();
    for (auto& t : threads_) t.join();
    threads_.clear();
}

}  // namespace mxbridge::detail
